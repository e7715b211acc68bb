package io.sluice.node.routing;

import static io.sluice.node.routing.Fixtures.deployment;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.persistence.CircuitState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CircuitGateTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  private static CircuitState openUntil(Instant until) {
    return new CircuitState(true, until, 429, "HTTP 429");
  }

  /**
   * @param whose whose circuit is in the state: own, r2 (the other region), none
   * @param state open (30 s left), half_open (its open time has passed)
   */
  @ParameterizedTest(name = "{0} circuit {1}, shared={2}: allowed={3}")
  @CsvSource({
      "none, -,         false, true",
      "none, -,         true,  true",
      "own,  open,      false, false",
      "own,  open,      true,  false",
      "own,  half_open, false, true",
      "own,  half_open, true,  true",
      "r2,   open,      false, true",
      "r2,   open,      true,  false",
      "r2,   half_open, true,  true",
      "r3,   open,      true,  true",  // r3 is no region of this deployment: its key means nothing here
  })
  void allows_circuitOfRegion_blocksOnlyWhenOpenAndOwnOrShared(String whose, String state, boolean shared,
      boolean allowed) {
    Deployment d = deployment("d", 0, "r1", shared);
    Instant until = "open".equals(state) ? NOW.plusSeconds(30) : NOW.minusSeconds(1);
    Map<String, CircuitState> circuits = switch (whose) {
      case "own" -> Map.of("d", openUntil(until));
      case "r2" -> Map.of(CircuitState.regionKey("d", "r2"), openUntil(until));
      case "r3" -> Map.of(CircuitState.regionKey("d", "r3"), openUntil(until));
      default -> Map.of();
    };
    CircuitGate gate = new CircuitGate("r1", List.of("r1", "r2"), () -> NOW);
    assertEquals(allowed, gate.allows(circuits, d));
  }

  @ParameterizedTest(name = "after {0} s")
  @CsvSource({"0, false", "29, false", "30, true", "90, true"})
  void allows_otherRegionsOpenCircuitOnShared_blocksUntilItsOpenTimeEnds(long seconds, boolean allowed) {
    Deployment d = deployment("d", 0, null, true);
    Map<String, CircuitState> circuits = Map.of(CircuitState.regionKey("d", "r2"), openUntil(NOW.plusSeconds(30)));
    CircuitGate gate = new CircuitGate("r1", List.of("r1", "r2"), () -> NOW.plus(Duration.ofSeconds(seconds)));
    assertEquals(allowed, gate.allows(circuits, d));
  }

  @ParameterizedTest(name = "shared={0}")
  @CsvSource({"false", "true"})
  void allows_singleRegionNode_readsOnlyTheDeploymentsOwnCircuit(boolean shared) {
    Deployment d = deployment("d", 0, null, shared);
    CircuitGate gate = new CircuitGate(null, List.of(), () -> NOW);
    assertEquals(true, gate.allows(Map.of(CircuitState.regionKey("d", "r2"), openUntil(NOW.plusSeconds(30))), d));
    assertEquals(false, gate.allows(Map.of("d", openUntil(NOW.plusSeconds(30))), d));
  }
}
