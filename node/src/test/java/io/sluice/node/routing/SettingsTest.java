package io.sluice.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.ConfigLoader;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SettingsTest {
  private static final Config SHIPPED = ConfigLoader.load(null);

  @Test
  void routingFrom_shippedConfig_isDocumentedDefaults() {
    RoutingSettings r = RoutingSettings.from(SHIPPED);
    assertEquals(3, r.maxAttempts());
    assertEquals(Duration.ofSeconds(120), r.deadline());
    assertEquals(new RoutingSettings.BackoffSettings(Duration.ofMillis(100), Duration.ofSeconds(2), 2, 0.2),
        r.backoff());
    assertEquals(Duration.ofSeconds(10), r.latencyDecay());
    assertEquals(Duration.ofMillis(500), r.defaultRtt());
  }

  @Test
  void healthFrom_shippedConfig_isDocumentedDefaults() {
    HealthSettings h = HealthSettings.from(SHIPPED);
    assertEquals(new HealthSettings(5, 0.5, Duration.ofSeconds(10), 10, 10, Duration.ofSeconds(5),
        Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(90)), h);
  }

  @Test
  void healthFrom_shippedConfig_probeTimeoutExceedsFirstByteTimeout() {
    Duration firstByte = SHIPPED.getDuration("sluice.upstream.defaults.timeouts.first-byte");
    assertEquals(1, HealthSettings.from(SHIPPED).probeTimeout().compareTo(firstByte));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "max-attempts = 0", "deadline = 0s", "backoff.initial = 0ms", "backoff.max = 50ms",
      "backoff.multiplier = 0.5", "backoff.jitter = -0.1", "backoff.jitter = 1.5", "latency.decay = 0s",
      "latency.default-rtt = 0s"})
  void routingFrom_badValue_failsNamingKey(String override) {
    Config c = ConfigFactory.parseString("sluice.routing." + override).withFallback(SHIPPED);
    assertThrows(ConfigException.BadValue.class, () -> RoutingSettings.from(c));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "consecutive-failures = 0", "failure-rate = 0", "failure-rate = 1.1", "window-buckets = 0",
      "window = 5ms", "min-requests = 0", "base-ejection = 0s", "max-ejection = 1s", "stable-period = -1s",
      "probe-timeout = 0s"})
  void healthFrom_badValue_failsNamingKey(String override) {
    Config c = ConfigFactory.parseString("sluice.health." + override).withFallback(SHIPPED);
    assertThrows(ConfigException.BadValue.class, () -> HealthSettings.from(c));
  }
}
