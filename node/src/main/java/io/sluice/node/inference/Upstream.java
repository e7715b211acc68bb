package io.sluice.node.inference;

import io.sluice.node.routing.Deployment;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Sends an attempt's request to its deployment. The pipeline depends on this, not on the pooled
 * client, so its tests can answer from a fake upstream.
 */
public interface Upstream {

  /** Completes with the whole response (strict entity) or fails with an {@code UpstreamFailure}. */
  CompletionStage<HttpResponse> sendWhole(Deployment d, HttpRequest request, Duration firstByte, Duration total);

  /** Completes with the response head, its body a stream, or fails with an {@code UpstreamFailure}. */
  CompletionStage<HttpResponse> sendStreamed(Deployment d, HttpRequest request, Duration firstByte);
}
