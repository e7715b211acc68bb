package io.sluice.node.http;

import io.sluice.node.api.OpenAiError;
import io.sluice.node.logging.SecretMask;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renders the requests Pekko HTTP's parser refuses before any route runs (a URI over the limit:
 * 414; a header too long: 431; too many headers or a malformed head: 400; an unknown method: 501)
 * in OpenAI's error envelope, as every other error of the node. Bound by
 * {@code pekko.http.server.parsing.error-handler}; Pekko creates it by its no-argument constructor.
 *
 * <p>The handler sees only the status and the parser's error, not the request: it cannot tell an
 * Anthropic path from an OpenAI one, so these few answers are in OpenAI's envelope on every path.
 * It logs at DEBUG, and only the status and the name of a header at fault, never a value: the
 * refused head is the client's input and may hold a key.
 */
public final class ParsingErrors extends ParsingErrorHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ParsingErrors.class);
  private static final int MAX_DETAIL = 200;

  public ParsingErrors() {}

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    int code = status.intValue();
    if (LOG.isDebugEnabled()) {
      LOG.debug("refused a request head with {} (header: {})", code, info.errorHeaderName());
    }
    return Responses.error(envelope(code, info.summary(), settings.parserSettings().maxUriLength(),
        settings.parserSettings().maxContentLength()));
  }

  /** The envelope for a parser refusal with {@code status}; {@code summary} is the parser's, masked and clipped. */
  static OpenAiError envelope(int status, String summary, int maxUriLength, long maxContentLength) {
    return switch (status) {
      case 413 -> OpenAiError.tooLarge(maxContentLength);
      case 414 -> new OpenAiError(414, "The request URI is longer than the limit of " + maxUriLength + " characters.",
          "invalid_request_error", null, "uri_too_long");
      case 431 -> new OpenAiError(431, "The request's headers are larger than the server's limits.",
          "invalid_request_error", null, "request_header_fields_too_large");
      case 501 -> new OpenAiError(501, "The request's HTTP method is not supported.",
          "invalid_request_error", null, "method_not_supported");
      case 505 -> new OpenAiError(505, "The request's HTTP version is not supported.",
          "invalid_request_error", null, "http_version_not_supported");
      default -> new OpenAiError(status, "The request could not be parsed: " + detail(summary) + ".",
          status >= 500 ? "server_error" : "invalid_request_error", null,
          status == 400 ? "invalid_http_request" : null);
    };
  }

  private static String detail(String summary) {
    if (summary == null || summary.isEmpty()) {
      return "malformed HTTP";
    }
    String s = summary.length() > MAX_DETAIL ? summary.substring(0, MAX_DETAIL) : summary;
    StringBuilder clean = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      clean.append(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    return SecretMask.mask(clean.toString());
  }
}
