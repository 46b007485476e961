#include "model-registry.h"

#include <algorithm>
#include <map>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "classifier-head.h"
#include "llama-log.h"

namespace qwen3 {
namespace {

std::mutex registryMutex;
std::map<std::string, std::weak_ptr<LoadedModel>> registry;

std::string registryKey(const std::string& path, const ModelPlacement& placement) {
    return path + "\n" + std::to_string(placement.gpuLayers) + "\n" + (placement.useMmap ? "mmap" : "read");
}

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
    // Held while loading so two threads asking for the same file wait for one load instead of loading twice.
    std::lock_guard<std::mutex> lock(registryMutex);
    const std::string key = registryKey(path, placement);
    if (auto it = registry.find(key); it != registry.end()) {
        if (auto existing = it->second.lock()) return existing;
    }

    llama_model_params params = llama().llama_model_default_params();
    params.n_gpu_layers = placement.gpuLayers;
    params.load_mode = placement.useMmap ? params.load_mode : LLAMA_LOAD_MODE_NONE;
    beginLogCapture();
    llama_model* model = llama().llama_model_load_from_file(path.c_str(), params);
    if (model == nullptr) {
        const std::string log = capturedLog();
        error = "llama.cpp could not load " + path + (log.empty() ? "" : ": " + log);
        return nullptr;
    }
#if defined(__GLIBC__)
    // Loading parses the whole GGUF header (the tokenizer's 151k strings and merges) and frees it again; hand
    // those pages back instead of leaving them in the heap (about 11 MB for Qwen3).
    malloc_trim(0);
#endif
    auto loaded = std::make_shared<LoadedModel>(model, path, llama().llama_supports_gpu_offload() && placement.gpuLayers != 0);
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
