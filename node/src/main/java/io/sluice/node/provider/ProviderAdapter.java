package io.sluice.node.provider;

import io.sluice.node.api.OpenAiError;
import io.sluice.node.api.RequestScan.Operation;
import io.sluice.node.routing.Deployment;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.util.ByteString;

/**
 * Speaks one provider's wire protocol for an OpenAI-shaped request. Sluice's clients speak
 * OpenAI; an adapter turns that into the upstream's request and reads the upstream's errors back
 * into OpenAI's envelope. Optional capabilities (translating responses, for non-OpenAI
 * providers) are separate interfaces.
 */
public interface ProviderAdapter {

  /** The {@code provider} name deployments use in config. */
  String provider();

  /**
   * The upstream request for {@code body}, authenticated with the deployment's own key. The body
   * may be used without a copy: callers never change it afterwards.
   */
  HttpRequest request(Deployment deployment, Operation operation, byte[] body);

  /** The upstream's error response as OpenAI's envelope, keeping its status, without secrets. */
  OpenAiError error(int status, ByteString body);
}
