package org.hnet.serve;

/** An error answered as OpenAI does: {"error": {"message", "type", "param", "code"}}. */
final class ApiError extends RuntimeException {
  final int status;
  final String type;
  final String param;

  ApiError(int status, String type, String param, String message) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.param = param;
  }

  static ApiError invalid(String param, String message) {
    return new ApiError(400, "invalid_request_error", param, message);
  }
}
