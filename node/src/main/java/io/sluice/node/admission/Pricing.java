package io.sluice.node.admission;

import io.sluice.node.routing.ModelCatalog;
import java.math.BigDecimal;

/**
 * A model's price in pico-USD per token, so a request's cost is two multiplications of longs.
 * Costs are rounded up to whole nano-USD: a request is never charged less than it cost.
 */
public record Pricing(long inputPicoPerToken, long outputPicoPerToken) {
  private static final BigDecimal PICO_PER_TOKEN_PER_USD_PER_MILLION = BigDecimal.valueOf(1_000_000L);

  public static Pricing of(ModelCatalog.Model model) {
    return new Pricing(pico(model.inputPerMillion()), pico(model.outputPerMillion()));
  }

  private static long pico(BigDecimal usdPerMillion) {
    return usdPerMillion.multiply(PICO_PER_TOKEN_PER_USD_PER_MILLION).setScale(0, java.math.RoundingMode.CEILING)
        .longValueExact();
  }

  /** The cost of the tokens in nano-USD, rounded up. */
  public long costNanos(long promptTokens, long completionTokens) {
    long pico = Math.addExact(Math.multiplyExact(promptTokens, inputPicoPerToken),
        Math.multiplyExact(completionTokens, outputPicoPerToken));
    return -Math.floorDiv(-pico, 1000); // ceiling division; pico + 999 could wrap negative near Long.MAX_VALUE
  }
}
