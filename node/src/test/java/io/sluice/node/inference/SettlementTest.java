package io.sluice.node.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.node.admission.Demand;
import io.sluice.node.admission.Pricing;
import io.sluice.node.inference.chat.Usage;
import io.sluice.persistence.UsageCounters;
import org.junit.jupiter.api.Test;

class SettlementTest {
  private static final Demand DEMAND = new Demand(50, 200, 0);
  private static final Pricing PRICE = new Pricing(1_000, 2_000);

  @Test
  void stream_completeWithFinalUsage_chargedExactlyTheReportedUsage() {
    UsageCounters c = Settlement.stream(new Usage(136, 45, 7, 6), 3, DEMAND, PRICE);

    assertEquals(new UsageCounters(1, 136, 45, PRICE.costNanos(136, 45)), c);
  }

  @Test
  void stream_cutAfterPlaceholderOutputCount_chargedOneTokenPerDeliveredDelta() {
    // Anthropic's message_start: input known, output_tokens 1; three text deltas, then the client left.
    UsageCounters c = Settlement.stream(new Usage(9, 1, 0, 0), 3, DEMAND, PRICE);

    assertEquals(9, c.promptTokens());
    assertEquals(3, c.completionTokens());
    assertEquals(PRICE.costNanos(9, 3), c.costNanos());
  }

  @Test
  void stream_noUsageReported_promptEstimatePlusDeltas() {
    UsageCounters c = Settlement.stream(null, 4, DEMAND, PRICE);

    assertEquals(new UsageCounters(1, 50, 4, PRICE.costNanos(50, 4)), c);
  }

  @Test
  void whole_withAndWithoutUsage_reportedElseTheReservation() {
    assertEquals(new UsageCounters(1, 123, 45, PRICE.costNanos(123, 45)),
        Settlement.whole(Usage.of(123, 45), DEMAND, PRICE));
    assertEquals(new UsageCounters(1, 50, 200, PRICE.costNanos(50, 200)), Settlement.whole(null, DEMAND, PRICE));
  }
}
