// qwen3-embedding/evaluation: prove a local deployment matches a hosted API or a reference file, calibrate reranker
// scores onto a reference's scale, evaluate retrieval on BEIR-format datasets.
export { verifyAgainstReference, type VerifyOptions, type VerificationReport, type LocalEmbedder, type LocalReranker } from "../evaluation/verification.js";
export { DEFAULT_THRESHOLDS, type VerificationThresholds } from "../evaluation/verification-thresholds.js";
export { applyCalibration, calibrateReranker, checkCalibration, loadCalibration, saveCalibration, CalibratedReranker, CALIBRATION_TYPE, type ScoreCalibration, type ScoreErrorStatistics, type ScoringReranker } from "../evaluation/score-calibration.js";
export { fitCalibration } from "../evaluation/calibration-fitting.js";
export { evaluateRetrieval, type RetrievalEvaluation } from "../evaluation/retrieval-evaluation.js";
export { loadBeirDataset } from "../evaluation/beir-dataset.js";
export { readReferenceFile, writeReferenceFile } from "../evaluation/reference-file.js";
export { collectRemoteReference } from "../evaluation/remote-reference.js";
export { writeVerificationReport } from "../evaluation/report-writer.js";
