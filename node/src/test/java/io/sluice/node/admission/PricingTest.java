package io.sluice.node.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.node.routing.ModelCatalog;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PricingTest {

  private static Pricing of(String inputPerMillion, String outputPerMillion) {
    return Pricing.of(new ModelCatalog.Model("m", new BigDecimal(inputPerMillion), new BigDecimal(outputPerMillion),
        List.of()));
  }

  @ParameterizedTest(name = "{0} USD/1M -> {1} pico-USD/token")
  @CsvSource({
      "0, 0",
      "0.00, 0",
      "0.15, 150000",
      "0.60, 600000",
      "0.0375, 37500",
      "2.50, 2500000",
      "10.00, 10000000",
      "60, 60000000",
      "0.000001, 1",
      "0.0000001, 1",       // a tenth of a pico rounds up
      "0.0000015, 2",
      "0.000000000000001, 1",
      "1E+6, 1000000000000",
  })
  void of_usdPerMillion_picoPerTokenRoundedUp(String usdPerMillion, long pico) {
    Pricing p = of(usdPerMillion, usdPerMillion);
    assertEquals(pico, p.inputPicoPerToken());
    assertEquals(pico, p.outputPicoPerToken());
  }

  @Test
  void of_inputAndOutput_keptApart() {
    assertEquals(new Pricing(150_000, 600_000), of("0.15", "0.60"));
  }

  @Test
  void of_priceBeyondALong_throwsArithmeticException() {
    assertThrows(ArithmeticException.class, () -> of("1E+20", "0"));
    assertThrows(ArithmeticException.class, () -> of("0", "9223372036854.775808"));
  }

  @ParameterizedTest(name = "in {0}, out {1} pico x {2}+{3} tokens -> {4} nano")
  @CsvSource({
      "150000, 600000, 1000, 500, 450000",        // gpt-4o-mini: $0.00015 + $0.0003
      "2500000, 10000000, 1234, 567, 8755000",    // gpt-4o
      "37500, 0, 1, 0, 38",                       // 37.5 nano rounds up
      "37500, 0, 2, 0, 75",                       // exact
      "37500, 0, 3, 0, 113",                      // 112.5 rounds up
      "1, 1, 1, 0, 1",                            // a thousandth of a nano is charged as one
      "1, 1, 999, 1, 1",                          // exactly one nano
      "1, 1, 1000, 1, 2",
      "1000, 1000, 5, 0, 5",                      // whole nanos are not rounded
      "0, 0, 1000000, 1000000, 0",                // free model
      "150000, 600000, 0, 0, 0",
      "0, 600000, 0, 1, 600",
  })
  void costNanos_tokens_nanoUsdRoundedUp(long inPico, long outPico, long prompt, long completion, long nanos) {
    assertEquals(nanos, new Pricing(inPico, outPico).costNanos(prompt, completion));
  }

  @Test
  void costNanos_largeButFitting_exact() {
    // a billion tokens at $60 per million: $60,000
    assertEquals(60_000L * 1_000_000_000L, new Pricing(60_000_000, 60_000_000).costNanos(500_000_000, 500_000_000));
  }

  @Test
  void costNanos_productOverflows_throwsArithmeticException() {
    Pricing p = new Pricing(Long.MAX_VALUE / 2 + 1, 1);
    assertThrows(ArithmeticException.class, () -> p.costNanos(2, 0));
  }

  @Test
  void costNanos_sumOverflows_throwsArithmeticException() {
    Pricing p = new Pricing(Long.MAX_VALUE / 2 + 1, Long.MAX_VALUE / 2 + 1);
    assertThrows(ArithmeticException.class, () -> p.costNanos(1, 1));
  }

  @Test
  void costNanos_picoNearLongMax_roundsUpWithoutWrappingNegative() {
    // pico = Long.MAX_VALUE fits; rounding it up to whole nanos must not overflow into a negative cost.
    assertEquals(Long.MAX_VALUE / 1000 + 1, new Pricing(Long.MAX_VALUE, 0).costNanos(1, 0));
    assertEquals((Long.MAX_VALUE - 7) / 1000 + 1, new Pricing(Long.MAX_VALUE - 7, 0).costNanos(1, 0));
  }
}
