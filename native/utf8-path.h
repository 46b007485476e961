// Paths are UTF-8 everywhere in the addon (what N-API hands us). On Windows the narrow ("A") APIs and fopen read
// them in the ANSI code page, so a model under C:\Users\Zoë\ could not be opened: these go through the wide APIs.
#pragma once

#include <cstdio>
#include <string>

#ifdef _WIN32
#include <windows.h>
#endif

namespace qwen3 {

#ifdef _WIN32
inline std::wstring widenUtf8(const std::string& utf8) {
    if (utf8.empty()) return std::wstring();
    const int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
    std::wstring wide(static_cast<size_t>(n), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), wide.data(), n);
    return wide;
}

inline std::string narrowToUtf8(const wchar_t* wide, size_t length) {
    if (length == 0) return std::string();
    const int n = WideCharToMultiByte(CP_UTF8, 0, wide, static_cast<int>(length), nullptr, 0, nullptr, nullptr);
    std::string utf8(static_cast<size_t>(n), '\0');
    WideCharToMultiByte(CP_UTF8, 0, wide, static_cast<int>(length), utf8.data(), n, nullptr, nullptr);
    return utf8;
}
#endif

// fopen for a UTF-8 path, read-only binary.
inline std::FILE* openForReading(const std::string& path) {
#ifdef _WIN32
    return _wfopen(widenUtf8(path).c_str(), L"rb");
#else
    return std::fopen(path.c_str(), "rb");
#endif
}

}  // namespace qwen3
