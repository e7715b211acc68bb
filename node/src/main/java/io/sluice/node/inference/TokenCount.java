package io.sluice.node.inference;

import io.sluice.node.auth.TenantView;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.TokenCounting;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.ModelCatalog;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntity;

/**
 * Counts a request's input tokens without serving it (Anthropic's count_tokens): from the first
 * deployment of the model whose provider counts tokens and speaks the client's protocol, else,
 * or when that upstream fails, from the gateway's own estimate. It spends no quota.
 */
final class TokenCount {
  private final Gate gate;
  private final Map<String, ProviderAdapter> adapters;
  private final Upstream upstream;

  TokenCount(Gate gate, Map<String, ProviderAdapter> adapters, Upstream upstream) {
    this.gate = gate;
    this.adapters = adapters;
    this.upstream = upstream;
  }

  CompletionStage<Long> count(TenantView view, Call call) {
    ModelCatalog.Model model = gate.model(view, call.body());
    for (Deployment d : model.deployments()) {
      ProviderAdapter adapter = adapters.get(d.provider());
      if (adapter instanceof TokenCounting counting && adapter.protocol() == call.body().protocol()) {
        try {
          return upstream.sendWhole(d, counting.countRequest(d, call), d.firstByteTimeout(), d.totalTimeout())
              .handle((response, error) -> {
                if (error == null && response.status().isSuccess()
                    && response.entity() instanceof HttpEntity.Strict strict) {
                  long n = counting.countOf(strict.getData());
                  if (n >= 0) {
                    return n;
                  }
                }
                return call.body().promptTokens();
              });
        } catch (io.sluice.node.inference.chat.InvalidChat e) {
          break;
        }
      }
    }
    return CompletableFuture.completedFuture(call.body().promptTokens());
  }
}
