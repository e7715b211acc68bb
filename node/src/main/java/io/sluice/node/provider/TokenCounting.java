package io.sluice.node.provider;

import io.sluice.node.inference.Call;
import io.sluice.node.routing.Deployment;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.util.ByteString;

/**
 * An optional capability of a provider: counting a request's input tokens upstream (Anthropic's
 * {@code /v1/messages/count_tokens}). The gateway asks it when a model is served by such a
 * provider, and estimates with its own tokenizer otherwise.
 */
public interface TokenCounting {

  /** The upstream request that counts {@code call}'s input tokens on {@code d}. */
  HttpRequest countRequest(Deployment d, Call call) throws io.sluice.node.inference.chat.InvalidChat;

  /** The count in the upstream's answer, or -1 when it holds none. */
  long countOf(ByteString body);
}
