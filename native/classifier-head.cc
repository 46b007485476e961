#include "classifier-head.h"
#include "utf8-path.h"

#include <cstdio>
#include <cstring>
#include <vector>

namespace qwen3 {
namespace {

int seekTo(FILE* file, size_t offset) {
#ifdef _WIN32
    return _fseeki64(file, static_cast<__int64>(offset), SEEK_SET);
#else
    return fseeko(file, static_cast<off_t>(offset), SEEK_SET);
#endif
}

struct GgufFile {
    gguf_context* gguf = nullptr;
    FILE* file = nullptr;
    ~GgufFile() {
        if (gguf != nullptr) llama().gguf_free(gguf);
        if (file != nullptr) std::fclose(file);
    }
};

// Reads `count` values of tensor `id` starting at element 0 and converts them to float.
bool readTensorAsFloat(GgufFile& f, int64_t id, size_t count, std::vector<float>& out, std::string& error) {
    const auto& api = llama();
    const ggml_type type = api.gguf_get_tensor_type(f.gguf, id);
    const ggml_type_traits* traits = api.ggml_get_type_traits(type);
    if (traits == nullptr || traits->blck_size <= 0 || count % traits->blck_size != 0) {
        error = std::string("unsupported tensor type ") + api.ggml_type_name(type);
        return false;
    }
    const size_t bytes = count / traits->blck_size * traits->type_size;
    if (bytes != api.gguf_get_tensor_size(f.gguf, id)) {
        error = "expected exactly " + std::to_string(count) + " values (2 rows: yes, no)";
        return false;
    }
    std::vector<uint8_t> raw(bytes);
    const size_t offset = api.gguf_get_data_offset(f.gguf) + api.gguf_get_tensor_offset(f.gguf, id);
    if (seekTo(f.file, offset) != 0 || std::fread(raw.data(), 1, bytes, f.file) != bytes) {
        error = "the file is truncated";
        return false;
    }
    out.resize(count);
    if (type == GGML_TYPE_F32) {
        std::memcpy(out.data(), raw.data(), bytes);
    } else if (type == GGML_TYPE_F16) {
        api.ggml_fp16_to_fp32_row(reinterpret_cast<const ggml_fp16_t*>(raw.data()), out.data(), static_cast<int64_t>(count));
    } else if (traits->to_float != nullptr) {
        traits->to_float(raw.data(), out.data(), static_cast<int64_t>(count));
    } else {
        error = std::string("cannot dequantize tensor type ") + api.ggml_type_name(type);
        return false;
    }
    return true;
}

}  // namespace

std::shared_ptr<const ClassifierRows> readClassifierRows(const std::string& path, int32_t nEmbd, std::string& error) {
    const auto& api = llama();
    GgufFile f;
    gguf_init_params params{true, nullptr};
    f.gguf = api.gguf_init_from_file(path.c_str(), params);
    if (f.gguf == nullptr) {
        error = "cannot read the GGUF header of " + path;
        return nullptr;
    }
    const int64_t weight = api.gguf_find_tensor(f.gguf, "cls.output.weight");
    if (weight < 0) return nullptr;
    f.file = openForReading(path);
    if (f.file == nullptr) {
        error = "cannot open " + path;
        return nullptr;
    }
    const size_t rowSize = static_cast<size_t>(nEmbd);
    std::vector<float> both;
    if (!readTensorAsFloat(f, weight, 2 * rowSize, both, error)) {
        error = "cls.output.weight in " + path + ": " + error;
        return nullptr;
    }
    auto rows = std::make_shared<ClassifierRows>();
    rows->yes.assign(both.begin(), both.begin() + rowSize);
    rows->no.assign(both.begin() + rowSize, both.end());
    const int64_t bias = api.gguf_find_tensor(f.gguf, "cls.output.bias");
    if (bias >= 0) {
        std::vector<float> values;
        if (!readTensorAsFloat(f, bias, 2, values, error)) {
            error = "cls.output.bias in " + path + ": " + error;
            return nullptr;
        }
        rows->yesBias = values[0];
        rows->noBias = values[1];
    }
    return rows;
}

}  // namespace qwen3
