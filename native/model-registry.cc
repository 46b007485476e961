#include "model-registry.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <thread>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "classifier-head.h"
#include "llama-log.h"

namespace qwen3 {
namespace {

std::mutex registryMutex;
std::condition_variable loadFinished;
std::map<std::string, std::weak_ptr<LoadedModel>> registry;
std::set<std::string> loading;  // keys being loaded right now, by some thread

std::string registryKey(const std::string& path, const ModelPlacement& placement) {
    return path + "\n" + std::to_string(placement.gpuLayers) + "\n" + (placement.useMmap ? "mmap" : "read") + "\n" +
           (placement.extraBufferTypes ? "extra" : "plain");
}

// Frees models whose last reference went, one after the other, on its own thread (started on first use and
// joined when the process exits).
class ReleaseThread {
public:
    ~ReleaseThread() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        if (thread_.joinable()) thread_.join();
    }
    void release(LoadedModel* model) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) {
                delete model;
                return;
            }
            queue_.push_back(model);
            if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
        }
        wake_.notify_one();
    }

private:
    void run() {
        LogCapture quiet;  // what freeing logs is not an error anybody waits for
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            LoadedModel* model = queue_.front();
            queue_.pop_front();
            lock.unlock();
            delete model;
            lock.lock();
        }
    }
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<LoadedModel*> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

ReleaseThread releaseThread;

}  // namespace

LoadedModel::LoadedModel(llama_model* model, std::string path, bool onGpu)
    : model_(model),
      vocab_(llama().llama_model_get_vocab(model)),
      path_(std::move(path)),
      nEmbd_(llama().llama_model_n_embd(model)),
      onGpu_(onGpu) {}

LoadedModel::~LoadedModel() { llama().llama_model_free(model_); }

std::string LoadedModel::meta(const std::string& key) const {
    char buffer[512];
    const int32_t n = llama().llama_model_meta_val_str(model_, key.c_str(), buffer, sizeof(buffer));
    return n < 0 ? std::string() : std::string(buffer, std::min<size_t>(static_cast<size_t>(n), sizeof(buffer) - 1));
}

bool LoadedModel::usesRankPooling() const {
    const std::string architecture = meta("general.architecture");
    return !architecture.empty() && meta(architecture + ".pooling_type") == std::to_string(LLAMA_POOLING_TYPE_RANK);
}

std::shared_ptr<const ClassifierRows> LoadedModel::classifierRows(std::string& error) {
    std::call_once(classifierOnce_, [this] { classifier_ = readClassifierRows(path_, nEmbd_, classifierError_); });
    error = classifierError_;
    return classifier_;
}

std::shared_ptr<LoadedModel> acquireModel(const std::string& path, const ModelPlacement& placement, std::string& error) {
    const std::string key = registryKey(path, placement);
    {
        std::unique_lock<std::mutex> lock(registryMutex);
        // Another thread loading the same file: wait for it rather than load it twice.
        loadFinished.wait(lock, [&] { return loading.count(key) == 0; });
        if (auto it = registry.find(key); it != registry.end()) {
            if (auto existing = it->second.lock()) return existing;
        }
        loading.insert(key);
    }
    struct Finish {
        const std::string& key;
        ~Finish() {
            {
                std::lock_guard<std::mutex> lock(registryMutex);
                loading.erase(key);
            }
            loadFinished.notify_all();
        }
    };

    llama_model_params params = llama().llama_model_default_params();
    params.n_gpu_layers = placement.gpuLayers;
    params.load_mode = placement.useMmap ? params.load_mode : LLAMA_LOAD_MODE_NONE;
    params.use_extra_bufts = placement.extraBufferTypes;
    LogCapture capture;
    llama_model* model = llama().llama_model_load_from_file(path.c_str(), params);
    if (model == nullptr) {
        Finish finish{key};
        const std::string log = capture.text();
        error = "llama.cpp could not load " + path + (log.empty() ? "" : ": " + log);
        return nullptr;
    }
#if defined(__GLIBC__)
    // Loading parses the whole GGUF header (the tokenizer's 151k strings and merges) and frees it again; hand
    // those pages back instead of leaving them in the heap (about 11 MB for Qwen3).
    malloc_trim(0);
#endif
    std::shared_ptr<LoadedModel> loaded(new LoadedModel(model, path, llama().llama_supports_gpu_offload() && placement.gpuLayers != 0),
                                        [](LoadedModel* last) { releaseThread.release(last); });
    Finish finish{key};
    std::lock_guard<std::mutex> lock(registryMutex);
    for (auto it = registry.begin(); it != registry.end();) {
        it = it->second.expired() ? registry.erase(it) : std::next(it);
    }
    registry[key] = loaded;
    return loaded;
}

size_t liveModelCount() {
    std::lock_guard<std::mutex> lock(registryMutex);
    size_t count = 0;
    for (const auto& entry : registry) count += entry.second.expired() ? 0 : 1;
    return count;
}

}  // namespace qwen3
