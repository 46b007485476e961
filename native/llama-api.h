// The llama.cpp / ggml C API, resolved at run time from the shared libraries that node-llama-cpp chose
// (prebuilt CPU variant, CUDA, Vulkan, Metal or its local source build). We compile against the headers
// of that exact llama.cpp release but never link to one backend's soname.
#pragma once

#include <string>

#include "ggml-backend.h"
#include "ggml.h"
#include "gguf.h"
#include "llama.h"

namespace qwen3 {

#define QWEN3_LLAMA_FUNCTIONS(X)      \
    X(llama_backend_init)             \
    X(llama_log_set)                  \
    X(llama_log_get)                  \
    X(llama_model_default_params)     \
    X(llama_context_default_params)   \
    X(llama_model_load_from_file)     \
    X(llama_model_free)               \
    X(llama_init_from_model)          \
    X(llama_free)                     \
    X(llama_model_get_vocab)          \
    X(llama_model_n_embd)             \
    X(llama_model_n_ctx_train)        \
    X(llama_model_n_layer)            \
    X(llama_model_n_params)           \
    X(llama_model_size)               \
    X(llama_model_desc)               \
    X(llama_model_meta_val_str)       \
    X(llama_model_n_cls_out)          \
    X(llama_model_cls_label)          \
    X(llama_vocab_n_tokens)           \
    X(llama_vocab_eos)                \
    X(llama_tokenize)                 \
    X(llama_token_to_piece)           \
    X(llama_detokenize)               \
    X(llama_batch_init)               \
    X(llama_batch_free)               \
    X(llama_decode)                   \
    X(llama_get_memory)               \
    X(llama_memory_clear)             \
    X(llama_memory_seq_cp)            \
    X(llama_memory_seq_keep)          \
    X(llama_get_logits_ith)           \
    X(llama_get_embeddings_seq)       \
    X(llama_n_ctx)                    \
    X(llama_n_batch)                  \
    X(llama_n_ubatch)                 \
    X(llama_n_seq_max)                \
    X(llama_pooling_type)             \
    X(llama_supports_gpu_offload)     \
    X(ggml_backend_dev_count)         \
    X(ggml_backend_load_all_from_path) \
    X(ggml_backend_tensor_get)        \
    X(ggml_nbytes)                    \
    X(ggml_get_type_traits)           \
    X(ggml_fp16_to_fp32_row)          \
    X(ggml_type_name)                 \
    X(gguf_init_from_file)            \
    X(gguf_free)                      \
    X(gguf_find_tensor)               \
    X(gguf_get_data_offset)           \
    X(gguf_get_tensor_offset)         \
    X(gguf_get_tensor_type)           \
    X(gguf_get_tensor_size)

struct LlamaApi {
#define QWEN3_DECLARE_POINTER(name) decltype(&::name) name = nullptr;
    QWEN3_LLAMA_FUNCTIONS(QWEN3_DECLARE_POINTER)
#undef QWEN3_DECLARE_POINTER
};

// Finds an already loaded library whose file name starts with `prefix` (e.g. "libllama."), so that we use the
// very copy node-llama-cpp loaded. Returns an empty string when none is loaded.
std::string findLoadedLibrary(const std::string& prefix);

// Binds the API to the given libllama once per process: refused (nothing bound, the library released) when its
// ggml_version() is not the one this addon was compiled for or a function is missing. Once bound, later calls with
// any path succeed without doing anything. Returns an empty string on success, else the reason.
std::string loadLlamaApi(const std::string& libllamaPath);

bool isLlamaApiLoaded();
const std::string& loadedLibraryPath();

// Valid only after loadLlamaApi succeeded.
const LlamaApi& llama();

}  // namespace qwen3
