#include "llama-api.h"
#include "llama-build.h"
#include "llama-log.h"
#include "utf8-path.h"

#include <mutex>
#include <vector>

#ifdef _WIN32
#include <windows.h>
#include <psapi.h>
#else
#include <dlfcn.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#else
#include <link.h>
#endif
#endif

namespace qwen3 {
namespace {

// Written under loadMutex until a binding succeeds, immutable afterwards: the process-wide binding to one llama.cpp
// build. A failed attempt binds nothing and may be retried (with the same library or another).
LlamaApi api;
std::string libraryPath;
bool bound = false;
std::mutex loadMutex;

std::string baseName(const std::string& path) {
    const auto slash = path.find_last_of("/\\");
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool matches(const std::string& path, const std::string& prefix) {
    return baseName(path).rfind(prefix, 0) == 0;
}

#ifdef _WIN32
// Every module of the process, however many (a fixed array would cut the list, or be read past).
std::vector<HMODULE> processModules() {
    std::vector<HMODULE> modules(256);
    for (;;) {
        DWORD needed = 0;
        if (!EnumProcessModules(GetCurrentProcess(), modules.data(), static_cast<DWORD>(modules.size() * sizeof(HMODULE)), &needed)) {
            return {};
        }
        const size_t count = needed / sizeof(HMODULE);
        if (count <= modules.size()) {
            modules.resize(count);
            return modules;
        }
        modules.resize(count + 16);  // more were loaded since: ask again
    }
}

std::string moduleFileName(HMODULE module) {
    std::wstring name(MAX_PATH, L'\0');
    for (;;) {
        const DWORD n = GetModuleFileNameW(module, name.data(), static_cast<DWORD>(name.size()));
        if (n == 0) return std::string();
        if (n < name.size()) return narrowToUtf8(name.data(), n);
        name.resize(name.size() * 2);  // long (\\?\) paths
    }
}
#endif

#if !defined(_WIN32) && !defined(__APPLE__)
struct SearchState {
    const std::string* prefix;
    std::string found;
};

int visitLoadedObject(struct dl_phdr_info* info, size_t, void* data) {
    auto* state = static_cast<SearchState*>(data);
    if (info->dlpi_name != nullptr && matches(info->dlpi_name, *state->prefix)) {
        state->found = info->dlpi_name;
        return 1;
    }
    return 0;
}
#endif

}  // namespace

std::string findLoadedLibrary(const std::string& prefix) {
#if defined(_WIN32)
    for (HMODULE module : processModules()) {
        const std::string name = moduleFileName(module);
        if (!name.empty() && matches(name, prefix)) return name;
    }
    return "";
#elif defined(__APPLE__)
    for (uint32_t i = 0; i < _dyld_image_count(); i++) {
        const char* name = _dyld_get_image_name(i);
        if (name != nullptr && matches(name, prefix)) return name;
    }
    return "";
#else
    SearchState state{&prefix, ""};
    dl_iterate_phdr(visitLoadedObject, &state);
    return state.found;
#endif
}

std::string loadLlamaApi(const std::string& libllamaPath) {
    std::lock_guard<std::mutex> lock(loadMutex);
    if (bound) return "";

#ifdef _WIN32
    HMODULE handle = LoadLibraryW(widenUtf8(libllamaPath).c_str());
    if (handle == nullptr) {
        return "LoadLibrary failed for " + libllamaPath + " (Windows error " + std::to_string(GetLastError()) + ")";
    }
    const std::vector<HMODULE> modules = processModules();
    auto resolve = [&](const char* name) -> void* {
        void* symbol = reinterpret_cast<void*>(GetProcAddress(handle, name));
        for (size_t i = 0; symbol == nullptr && i < modules.size(); i++) {
            symbol = reinterpret_cast<void*>(GetProcAddress(modules[i], name));
        }
        return symbol;
    };
    auto release = [&] { FreeLibrary(handle); };
#else
    // RTLD_GLOBAL so the ggml backends that llama.cpp loads later resolve against the same ggml-base copy.
    void* handle = dlopen(libllamaPath.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (handle == nullptr) {
        const char* reason = dlerror();
        return "dlopen failed for " + libllamaPath + ": " + (reason ? reason : "unknown error");
    }
    // dlsym on a handle also searches the library's dependencies (libggml, libggml-base).
    auto resolve = [&](const char* name) -> void* { return dlsym(handle, name); };
    auto release = [&] { dlclose(handle); };
#endif
    // A failure below leaves nothing bound: the library is released and a later call may bind another one.

    // Before any struct crosses: a ggml of another version means other struct layouts (llama_*_params, llama_batch,
    // ggml_tensor), which no symbol check would notice.
    const auto version = reinterpret_cast<decltype(&::ggml_version)>(resolve("ggml_version"));
    const std::string found = version == nullptr ? "" : version();
    if (found != QWEN3_BUILT_FOR_GGML_VERSION) {
        release();
        return libllamaPath + " is built from ggml " + (found.empty() ? "of unknown version (no ggml_version)" : found) +
               ", but this addon was compiled for ggml " + QWEN3_BUILT_FOR_GGML_VERSION + " (llama.cpp " +
               QWEN3_BUILT_FOR_LLAMA_CPP_RELEASE + " of node-llama-cpp " + QWEN3_BUILT_FOR_NODE_LLAMA_CPP_VERSION +
               "): its structs may differ";
    }

    LlamaApi resolved;
    std::string missing;
#define QWEN3_RESOLVE(name)                                                        \
    resolved.name = reinterpret_cast<decltype(&::name)>(resolve(#name));           \
    if (resolved.name == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(#name);
    QWEN3_LLAMA_FUNCTIONS(QWEN3_RESOLVE)
#undef QWEN3_RESOLVE
    if (!missing.empty()) {
        release();
        return libllamaPath + " lacks functions this addon was compiled for (" + missing +
               "); it does not match the llama.cpp release of the pinned node-llama-cpp";
    }

    // Before loading the backends: they log each load, which would reach stderr with llama.cpp's default logger.
    api = resolved;
    installLlamaLog();
    LogCapture capture;
    api.llama_backend_init();
    if (api.ggml_backend_dev_count() == 0) {
        // Nobody loaded the ggml backends in this process yet: load those that sit beside libllama.
        const auto slash = libllamaPath.find_last_of("/\\");
        const std::string folder = slash == std::string::npos ? "." : libllamaPath.substr(0, slash);
        api.ggml_backend_load_all_from_path(folder.c_str());
    }
    if (api.ggml_backend_dev_count() == 0) {
        // Left loaded (llama_backend_init ran): binding it again may find backends another component loaded since.
        return "no ggml backend could be loaded beside " + libllamaPath;
    }
    libraryPath = libllamaPath;
    bound = true;
    return "";
}

bool isLlamaApiLoaded() {
    std::lock_guard<std::mutex> lock(loadMutex);
    return bound;
}

const std::string& loadedLibraryPath() { return libraryPath; }

const LlamaApi& llama() { return api; }

}  // namespace qwen3
