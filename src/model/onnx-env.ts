/**
 * Settings onnxruntime reads from the environment when it starts, set before
 * onnx-backend.ts loads it (ES modules run their imports in order).
 *
 * onnxruntime 1.30's Linux build carries a telemetry client (Microsoft's 1DS
 * SDK). It writes an empty `/tmp/mat-debug-<pid>.log` in every process that
 * creates a session and would send usage events where it finds a CA bundle.
 * hubnlu promises that nothing leaves the hub, so it turns telemetry off
 * (`ORT_DISABLE_TELEMETRY=1`), which also stops the debug file. An explicit
 * value in the environment is left as it is.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';

export {};
