#include "llama-log.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "llama-api.h"

namespace qwen3 {
namespace {

thread_local bool capturing = false;
thread_local std::string captured;
constexpr size_t kMaxCaptured = 4096;

// The process's callback before ours; written once, in installLlamaLog, before any message can reach ours.
struct PreviousLogger {
    ggml_log_callback callback = nullptr;
    void* userData = nullptr;
};

int printThreshold() {
    const char* level = std::getenv("QWEN3_EMBEDDING_LLAMA_LOG");
    if (level == nullptr) return GGML_LOG_LEVEL_NONE;
    if (std::strcmp(level, "debug") == 0) return GGML_LOG_LEVEL_DEBUG;
    if (std::strcmp(level, "info") == 0) return GGML_LOG_LEVEL_INFO;
    if (std::strcmp(level, "warn") == 0) return GGML_LOG_LEVEL_WARN;
    if (std::strcmp(level, "error") == 0) return GGML_LOG_LEVEL_ERROR;
    return GGML_LOG_LEVEL_NONE;
}

struct LogRoute {
    int threshold;
    PreviousLogger previous;
};

void onLlamaLog(enum ggml_log_level level, const char* text, void* userData) {
    const auto* route = static_cast<const LogRoute*>(userData);
    if (!capturing) {
        if (route->previous.callback != nullptr) route->previous.callback(level, text, route->previous.userData);
        return;
    }
    if (route->threshold != GGML_LOG_LEVEL_NONE && level != GGML_LOG_LEVEL_CONT && level >= route->threshold) {
        std::fputs(text, stderr);
    }
    if ((level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN) && captured.size() < kMaxCaptured) {
        captured += text;
    }
}

}  // namespace

void installLlamaLog() {
    static LogRoute route{printThreshold(), {}};
    llama().llama_log_get(&route.previous.callback, &route.previous.userData);
    if (route.previous.callback == onLlamaLog) return;
    llama().llama_log_set(onLlamaLog, &route);
}

LogCapture::LogCapture() : outerActive_(capturing), outerText_(std::move(captured)) {
    capturing = true;
    captured.clear();
}

LogCapture::~LogCapture() {
    capturing = outerActive_;
    captured = std::move(outerText_);
}

std::string LogCapture::text() const {
    std::string text = captured;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

}  // namespace qwen3
