// Process-wide registry of loaded models: every context and worker thread that asks for the same file with the
// same placement shares one copy of the weights; the model is freed when its last user lets go, always on the
// registry's own release thread (never on a JS thread: freeing unmaps gigabytes and GPU buffers). Different
// files load in parallel; two threads asking for the same one wait for one load.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "llama-api.h"

namespace qwen3 {

struct ModelPlacement {
    int32_t gpuLayers = -1;  // -1: as many as fit / all
    bool useMmap = true;
    // llama.cpp's extra buffer types: on CPUs where ggml repacks weights for faster kernels (AMX, ARM/x86
    // repacked layouts), a second, repacked copy of those weights. Faster there, at that copy's memory.
    bool extraBufferTypes = true;
};

// The two rows of a reranker's yes/no classifier (`cls.output.weight`), dequantized, plus optional biases.
struct ClassifierRows {
    std::vector<float> yes;
    std::vector<float> no;
    float yesBias = 0;
    float noBias = 0;
};

class LoadedModel {
public:
    LoadedModel(llama_model* model, std::string path, bool onGpu);
    ~LoadedModel();
    LoadedModel(const LoadedModel&) = delete;
    LoadedModel& operator=(const LoadedModel&) = delete;

    llama_model* get() const { return model_; }
    const llama_vocab* vocab() const { return vocab_; }
    const std::string& path() const { return path_; }
    int32_t embeddingSize() const { return nEmbd_; }
    // Layers were offloaded to a GPU (a GPU build and gpuLayers not 0).
    bool onGpu() const { return onGpu_; }
    // A GGUF metadata value as text; empty when the key is absent.
    std::string meta(const std::string& key) const;
    // `<architecture>.pooling_type` is RANK: a reranker converted with a classifier head.
    bool usesRankPooling() const;

    // Reads cls.output.* from the GGUF once; null when the file has no 2-row classifier.
    // Sets `error` when the file has one that cannot be read.
    std::shared_ptr<const ClassifierRows> classifierRows(std::string& error);

private:
    llama_model* model_;
    const llama_vocab* vocab_;
    std::string path_;
    int32_t nEmbd_;
    bool onGpu_;
    std::once_flag classifierOnce_;
    std::shared_ptr<const ClassifierRows> classifier_;
    std::string classifierError_;
};

// Returns the shared model, loading it if needed. On failure returns null and sets `error`.
std::shared_ptr<LoadedModel> acquireModel(const std::string& path, const ModelPlacement& placement, std::string& error);

// Models currently loaded in this process (for diagnostics and tests of the sharing). Never waits for a load.
size_t liveModelCount();

}  // namespace qwen3
