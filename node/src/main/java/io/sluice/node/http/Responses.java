package io.sluice.node.http;

import io.sluice.node.api.OpenAiError;
import java.util.concurrent.CompletionException;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.util.ByteString;

/** Builds the gateway's HTTP responses: OpenAI error envelopes and JSON bodies. */
public final class Responses {
  private Responses() {}

  public static HttpResponse error(OpenAiError error) {
    return HttpResponse.create()
        .withStatus(StatusCodes.get(error.status()))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(error.toJson())));
  }

  public static HttpResponse json(int status, byte[] body) {
    return HttpResponse.create()
        .withStatus(StatusCodes.get(status))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(body)));
  }

  /** The innermost cause of an async failure. */
  public static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Whether a failure is a body over the size limit (then the answer is 413). */
  public static boolean tooLarge(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof EntityStreamSizeException) {
        return true;
      }
      // The parser refuses a declared Content-Length over the limit with this summary.
      if (c instanceof EntityStreamException e && e.info().summary().startsWith("Request too large")) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }

  /**
   * The 400 for a request body the client framed wrongly or cut short (a malformed or oversized
   * chunk header, a connection closed before the declared length arrived), or null when the
   * failure is something else. Pekko HTTP fails the request's entity stream with an
   * {@link EntityStreamException} for all of these; an over-limit body is not one of them (413).
   * The parser's summary names the framing fault, never a header value.
   */
  public static OpenAiError framingError(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof EntityStreamException e && !tooLarge(e)) {
        String summary = e.info().summary();
        return new OpenAiError(400, "The request body is not framed correctly: "
            + (summary.length() > 200 ? summary.substring(0, 200) : summary) + ".",
            "invalid_request_error", null, "invalid_body_framing");
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return null;
  }
}
