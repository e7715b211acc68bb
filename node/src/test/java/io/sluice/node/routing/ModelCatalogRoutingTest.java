package io.sluice.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.ConfigLoader;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelCatalogRoutingTest {
  private static final Config DEFAULTS = ConfigFactory.parseResources("sluice/upstream.conf").resolve();

  private static ModelCatalog catalog(String models) {
    return ModelCatalog.from(ConfigFactory.parseString("sluice.models {" + models + "}").withFallback(DEFAULTS));
  }

  private static final String TWO_MODELS = """
      "a" { strategy = latency, fallbacks = ["b"],
            deployments = [ { name = a1, provider = openai, base-url = "http://a/", max-concurrent-requests = 8 },
                            { name = a2, provider = openai, base-url = "http://a2", priority = 1 } ] }
      "b" { deployments = [ { name = b1, provider = openai, base-url = "http://b" } ] }
      """;

  @Test
  void from_newKeys_areRead() {
    ModelCatalog c = catalog(TWO_MODELS);
    assertEquals(RoutingStrategy.LATENCY, c.get("a").strategy());
    assertEquals(List.of("b"), c.get("a").fallbacks());
    assertEquals(8, c.get("a").deployments().get(0).maxConcurrentRequests());
    assertEquals("http://a", c.get("a").deployments().get(0).baseUrl());
  }

  @Test
  void from_newKeysAbsent_weightedNoFallbacksUnlimited() {
    ModelCatalog c = catalog(TWO_MODELS);
    assertEquals(RoutingStrategy.WEIGHTED, c.get("b").strategy());
    assertEquals(List.of(), c.get("b").fallbacks());
    assertEquals(Deployment.UNLIMITED, c.get("a").deployments().get(1).maxConcurrentRequests());
    assertEquals(1, c.get("a").deployments().get(1).priority());
  }

  @Test
  void from_shippedModels_loadWithDefaults() {
    ModelCatalog c = ModelCatalog.from(ConfigLoader.load(null));
    for (ModelCatalog.Model m : c.models().values()) {
      assertEquals(RoutingStrategy.WEIGHTED, m.strategy());
      assertEquals(List.of(), m.fallbacks());
      m.deployments().forEach(d -> assertEquals(Deployment.UNLIMITED, d.maxConcurrentRequests()));
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "\"a\" { strategy = fastest, deployments = [ { provider = openai, base-url = \"http://a\" } ] }",
      "\"a\" { fallbacks = [\"a\"], deployments = [ { provider = openai, base-url = \"http://a\" } ] }",
      "\"a\" { fallbacks = [\"zz\"], deployments = [ { provider = openai, base-url = \"http://a\" } ] }",
      "\"a\" { fallbacks = [\"b\", \"b\"], deployments = [ { provider = openai, base-url = \"http://a\" } ] }"
          + " \"b\" { deployments = [ { provider = openai, base-url = \"http://b\" } ] }",
      "\"a\" { deployments = [ { provider = openai, base-url = \"http://a\", max-concurrent-requests = -1 } ] }"})
  void from_badModelConfig_fails(String models) {
    assertThrows(ConfigException.class, () -> catalog(models));
  }

  @Test
  void constructors_previousShapes_defaultNewFields() {
    Deployment d = new Deployment("d", "openai", "http://d", "m", null, 1, 0, Duration.ofSeconds(1),
        Duration.ofSeconds(2), Duration.ofSeconds(3), 4, 5);
    assertEquals(Deployment.UNLIMITED, d.maxConcurrentRequests());
    ModelCatalog.Model m = new ModelCatalog.Model("m", BigDecimal.ONE, BigDecimal.ONE, List.of(d));
    assertEquals(RoutingStrategy.WEIGHTED, m.strategy());
    assertEquals(List.of(), m.fallbacks());
  }
}
