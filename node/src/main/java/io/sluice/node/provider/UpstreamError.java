package io.sluice.node.provider;

/**
 * An upstream's error answer, read by its provider's adapter out of its native envelope, with
 * every string that came from the upstream already redacted of secrets.
 *
 * @param status the upstream's HTTP status
 * @param errorClass what the failure means for retries, health and circuits; usually
 *     {@link ErrorClass#classify}'s, but a provider may know better from the body (Anthropic's 429
 *     for a spent account limit is not worth retrying)
 * @param type the upstream's error type (OpenAI's {@code type}, Anthropic's {@code error.type}),
 *     or null
 * @param code the upstream's error code, or null
 * @param param the field it blamed, or null
 */
public record UpstreamError(int status, ErrorClass errorClass, String type, String code, String message,
    String param) {}
