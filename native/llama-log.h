// Routes llama.cpp's log, which is one callback for the whole process. Messages logged on a thread inside a
// LogCapture (our loads, context creations and decodes, and the threads the addon owns) are ours: warnings and
// errors are kept so that a failure can say what llama.cpp complained about, and nothing is printed unless
// QWEN3_EMBEDDING_LLAMA_LOG=error|warn|info|debug asks for those levels on stderr. Every other message goes to the
// callback that was installed before ours (a host's node-llama-cpp, say), so its logging keeps working.
#pragma once

#include <string>

namespace qwen3 {

void installLlamaLog();

// While alive, this thread's llama.cpp messages are ours (see above). Nests: an inner capture starts a fresh record
// and the outer one resumes after it.
class LogCapture {
public:
    LogCapture();
    ~LogCapture();
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    // The warnings and errors logged on this thread since this capture began, one line each (may be empty).
    std::string text() const;

private:
    bool outerActive_;
    std::string outerText_;
};

}  // namespace qwen3
