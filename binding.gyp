# node-gyp rather than cmake-js: the addon is a handful of our own C++ files with no llama.cpp sources to build
# (the llama.cpp libraries come prebuilt through node-llama-cpp and are bound at run time), so npm's bundled
# node-gyp builds it in seconds with nothing else to install or download.
{
  "targets": [
    {
      "target_name": "qwen3_embedding",
      "sources": [
        "native/addon.cc",
        "native/addon-context.cc",
        "native/addon-model.cc",
        "native/batch-context.cc",
        "native/batch-context-outputs.cc",
        "native/batch-context-run.cc",
        "native/classifier-head.cc",
        "native/context-thread.cc",
        "native/decode-layout.cc",
        "native/prefix-cache.cc",
        "native/llama-api.cc",
        "native/llama-log.cc",
        "native/model-registry.cc",
        "native/tokenize-workers.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/llama-headers",
        "native/llama-headers/include",
        "native/llama-headers/ggml/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }],
        ["OS=='win'", {
          "libraries": ["psapi.lib"],
          "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] } }
        }]
      ]
    }
  ]
}
