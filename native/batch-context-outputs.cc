// Reading a decode's results: the result_norm rows captured through the eval callback, the last-token logits, or
// llama.cpp's pooled output, turned into embedding rows or p(yes) scores.
#include "batch-context.h"

#include <cmath>
#include <cstring>

namespace qwen3 {
namespace {

float sigmoid(double x) { return static_cast<float>(1.0 / (1.0 + std::exp(-x))); }

}  // namespace

bool BatchContext::onTensor(struct ggml_tensor* tensor, bool ask) {
    const bool wanted = capturing_ && std::strcmp(tensor->name, "result_norm") == 0;
    if (ask) return wanted;
    if (!wanted) return true;
    const int64_t width = tensor->ne[0];
    const int64_t rows = tensor->ne[1];
    if (tensor->type != GGML_TYPE_F32 || width != model_->embeddingSize() || tensor->ne[2] != 1 || tensor->ne[3] != 1 ||
        llama().ggml_nbytes(tensor) != static_cast<size_t>(width * rows) * sizeof(float)) {
        capturedRows_ = SIZE_MAX;  // reported by readOutputs as a mapping failure
        return true;
    }
    if (rows == 0) return true;
    const size_t at = captured_.size();
    captured_.resize(at + static_cast<size_t>(width * rows));
    llama().ggml_backend_tensor_get(tensor, captured_.data() + at, 0, static_cast<size_t>(width * rows) * sizeof(float));
    capturedRows_ += static_cast<size_t>(rows);
    // Returning false ends the graph here: the vocabulary head after result_norm (151k logits per output row,
    // written to pages that would then stay resident) is not computed when nothing reads it.
    return !hiddenIsEnough_;
}

RunStatus BatchContext::readOutputs(llama_context* ctx, Output output, bool needHidden, float* out) {
    const auto& api = llama();
    const size_t nEmbd = static_cast<size_t>(model_->embeddingSize());
    const size_t outputs = chunkOutputs_.size();
    if (needHidden && capturedRows_ != outputs) {
        return RunStatus::fail("ERR_DECODE", "internal error: expected " + std::to_string(outputs) +
                                                 " result_norm rows from llama.cpp but got " +
                                                 (capturedRows_ == SIZE_MAX ? std::string("a tensor of unexpected shape")
                                                                            : std::to_string(capturedRows_)));
    }
    for (size_t k = 0; k < outputs; k++) {
        const size_t seq = chunkOutputs_[k];
        if (options_.llamaPooling) {
            const float* pooled = api.llama_get_embeddings_seq(ctx, chunkOutputSeqId_[k]);
            if (pooled == nullptr) return RunStatus::fail("ERR_DECODE", "llama.cpp returned no pooled output for a sequence");
            if (output == Output::Hidden) {
                std::memcpy(out + seq * nEmbd, pooled, nEmbd * sizeof(float));
            } else {
                out[seq] = pooled[0];  // Qwen3 RANK pooling is softmax([yes, no]): element 0 is p(yes)
            }
            continue;
        }
        if (output == Output::Hidden) {
            std::memcpy(out + seq * nEmbd, captured_.data() + k * nEmbd, nEmbd * sizeof(float));
        } else if (rankMethod_ == RankMethod::ClassifierRows) {
            const float* h = captured_.data() + k * nEmbd;
            double yes = classifier_->yesBias;
            double no = classifier_->noBias;
            for (size_t i = 0; i < nEmbd; i++) {
                yes += static_cast<double>(h[i]) * classifier_->yes[i];
                no += static_cast<double>(h[i]) * classifier_->no[i];
            }
            out[seq] = sigmoid(yes - no);
        } else {
            const float* logits = api.llama_get_logits_ith(ctx, chunkOutputBatchIndex_[k]);
            if (logits == nullptr) return RunStatus::fail("ERR_DECODE", "llama.cpp returned no logits for a sequence's last token");
            out[seq] = sigmoid(static_cast<double>(logits[yesToken_]) - logits[noToken_]);
        }
    }
    chunkOutputs_.clear();
    chunkOutputBatchIndex_.clear();
    chunkOutputSeqId_.clear();
    return {};
}

}  // namespace qwen3
