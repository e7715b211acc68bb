package io.sluice.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelCatalogTest {

  private static final String TWO_MODELS = """
      sluice.models {
        "gpt-4o-mini" {
          price { input-per-million = 0.15, output-per-million = "0.60" }
          deployments = [
            { name = "primary", provider = openai, base-url = "https://api.openai.com/v1/",
              model = "gpt-4o-mini-2024-07-18", api-key = "sk-very-secret-upstream-key", weight = 3,
              priority = 1, timeouts { first-byte = 5s }, pool { max-connections = 8 } }
            { name = "fallback", provider = openai, base-url = "http://localhost:8000/v1//" }
          ]
        }
        "llama3.1:8b" {
          deployments = [
            { provider = openai, base-url = "http://localhost:11434/v1",
              api-key = ${?SLUICE_TEST_SURELY_UNSET_VARIABLE} }
          ]
        }
      }
      """;

  private static Config config(String hocon) {
    return ConfigFactory.parseString(hocon)
        .withFallback(ConfigFactory.parseResources("sluice/upstream.conf"))
        .resolve();
  }

  private static ModelCatalog twoModels() {
    return ModelCatalog.from(config(TWO_MODELS));
  }

  @Test
  void from_twoModels_bothInOrder() {
    assertEquals(List.of("gpt-4o-mini", "llama3.1:8b"), List.copyOf(twoModels().models().keySet()));
  }

  @Test
  void from_price_numberAndStringParsed() {
    ModelCatalog.Model m = twoModels().get("gpt-4o-mini");
    assertEquals(0, new BigDecimal("0.15").compareTo(m.inputPerMillion()));
    assertEquals(0, new BigDecimal("0.60").compareTo(m.outputPerMillion()));
  }

  @Test
  void from_noPrice_zero() {
    ModelCatalog.Model m = twoModels().get("llama3.1:8b");
    assertEquals(0, BigDecimal.ZERO.compareTo(m.inputPerMillion()));
    assertEquals(0, BigDecimal.ZERO.compareTo(m.outputPerMillion()));
  }

  @Test
  void from_deploymentWithOverrides_overridesKeepOtherDefaults() {
    Deployment d = twoModels().get("gpt-4o-mini").deployments().get(0);
    assertEquals("primary", d.name());
    assertEquals("openai", d.provider());
    assertEquals("https://api.openai.com/v1", d.baseUrl(), "trailing slash stripped");
    assertEquals("gpt-4o-mini-2024-07-18", d.upstreamModel());
    assertEquals("sk-very-secret-upstream-key", d.apiKey());
    assertEquals(3, d.weight());
    assertEquals(1, d.priority());
    assertEquals(Duration.ofSeconds(5), d.firstByteTimeout(), "per-deployment override");
    assertEquals(Duration.ofSeconds(2), d.connectTimeout(), "default from sluice.upstream.defaults");
    assertEquals(Duration.ofMinutes(10), d.totalTimeout(), "default from sluice.upstream.defaults");
    assertEquals(8, d.maxConnections(), "per-deployment override");
    assertEquals(8192, d.maxOpenRequests(), "default from sluice.upstream.defaults");
  }

  @Test
  void from_deploymentWithoutOverrides_defaults() {
    Deployment d = twoModels().get("gpt-4o-mini").deployments().get(1);
    assertEquals("fallback", d.name());
    assertEquals("http://localhost:8000/v1", d.baseUrl(), "every trailing slash stripped");
    assertEquals("gpt-4o-mini", d.upstreamModel(), "upstream model defaults to the served name");
    assertNull(d.apiKey());
    assertEquals(1, d.weight());
    assertEquals(0, d.priority());
    assertEquals(Duration.ofSeconds(2), d.connectTimeout());
    assertEquals(Duration.ofSeconds(60), d.firstByteTimeout());
    assertEquals(Duration.ofMinutes(10), d.totalTimeout());
    assertEquals(1024, d.maxConnections());
    assertEquals(8192, d.maxOpenRequests());
  }

  @Test
  void from_unnamedDeploymentWithUnsetEnvKey_namedAfterModelAndNoKey() {
    Deployment d = twoModels().get("llama3.1:8b").deployments().get(0);
    assertEquals("llama3.1:8b", d.name());
    assertEquals("llama3.1:8b", d.upstreamModel());
    assertNull(d.apiKey(), "an absent ${?ENV} key means no key");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"\"", "\"   \""})
  void from_blankApiKey_null(String key) {
    ModelCatalog c = ModelCatalog.from(config(
        "sluice.models.m.deployments = [{ provider = openai, base-url = \"http://x\", api-key = " + key + " }]"));
    assertNull(c.get("m").deployments().get(0).apiKey());
  }

  @Test
  void from_modelNameWithDots_keptWhole() {
    ModelCatalog c = ModelCatalog.from(config(
        "sluice.models { \"gpt-4.1\" { deployments = [{ provider = openai, base-url = \"http://x\" }] } }"));
    assertEquals(List.of("gpt-4.1"), List.copyOf(c.models().keySet()));
    assertEquals("gpt-4.1", c.get("gpt-4.1").name());
  }

  @Test
  void from_shippedModelsConf_parses() {
    Config shipped = ConfigFactory.parseResources("sluice/models.conf")
        .withFallback(ConfigFactory.parseResources("sluice/upstream.conf"))
        .resolve();
    ModelCatalog c = ModelCatalog.from(shipped);
    assertTrue(c.models().containsKey("gpt-4o-mini"));
    assertFalse(c.get("gpt-4o-mini").deployments().isEmpty());
  }

  @Test
  void from_modelWithEmptyDeployments_fails() {
    Config c = config("sluice.models { \"m\" { deployments = [] } }");
    ConfigException e = assertThrows(ConfigException.class, () -> ModelCatalog.from(c));
    assertTrue(e.getMessage().contains("m"), e.getMessage());
  }

  @Test
  void from_modelWithoutDeploymentsKey_fails() {
    Config c = config("sluice.models { \"m\" { price { input-per-million = 1 } } }");
    assertThrows(ConfigException.class, () -> ModelCatalog.from(c));
  }

  @Test
  void from_deploymentWithoutBaseUrl_fails() {
    Config c = config("sluice.models.m.deployments = [{ provider = openai }]");
    assertThrows(ConfigException.class, () -> ModelCatalog.from(c));
  }

  @Test
  void from_bedrockWithoutBaseUrl_runtimeEndpointOfItsAwsRegion() {
    Deployment d = ModelCatalog.from(config("sluice.models.m.deployments = [{ provider = bedrock, region = "
        + "\"eu-west-1\", model = \"anthropic.claude-3-5-sonnet-20240620-v1:0\" }]")).get("m").deployments().get(0);
    assertEquals("https://bedrock-runtime.eu-west-1.amazonaws.com", d.baseUrl());
    assertEquals("eu-west-1", d.option("region", null));
    Deployment aws = ModelCatalog.from(config("sluice.models.m.deployments = [{ provider = bedrock, region = r1, "
        + "aws-region = us-west-2 }]")).get("m").deployments().get(0);
    assertEquals("https://bedrock-runtime.us-west-2.amazonaws.com", aws.baseUrl());
  }

  @Test
  void from_regionAndShared_parsedAndRegionStaysAnOption() {
    List<Deployment> ds = ModelCatalog.from(config("sluice.models.m.deployments = ["
        + "{ name = a, provider = openai, base-url = \"http://a\", region = r1, shared = true },"
        + "{ name = b, provider = openai, base-url = \"http://b\" }]")).get("m").deployments();
    assertEquals("r1", ds.get(0).region());
    assertTrue(ds.get(0).shared());
    assertEquals("r1", ds.get(0).option("region", null));
    assertNull(ds.get(0).option("shared", null));
    assertNull(ds.get(1).region());
    assertFalse(ds.get(1).shared());
  }

  @ParameterizedTest
  @ValueSource(strings = {"shared = maybe", "region = \"\""})
  void from_badRegionOrShared_fails(String setting) {
    Config c = config("sluice.models.m.deployments = [{ provider = openai, base-url = \"http://a\", " + setting + " }]");
    assertThrows(ConfigException.class, () -> ModelCatalog.from(c));
  }

  @Test
  void from_bedrockWithoutBaseUrlOrRegion_fails() {
    Config c = config("sluice.models.m.deployments = [{ provider = bedrock }]");
    assertThrows(ConfigException.class, () -> ModelCatalog.from(c));
  }

  @Test
  void models_catalog_unmodifiable() {
    ModelCatalog c = twoModels();
    assertThrows(UnsupportedOperationException.class, () -> c.models().clear());
    assertThrows(UnsupportedOperationException.class, () -> c.get("gpt-4o-mini").deployments().clear());
  }

  @Test
  void get_unknownModel_null() {
    assertNull(twoModels().get("nope"));
  }

  @Test
  void deploymentToString_withKey_neverContainsKey() {
    for (ModelCatalog.Model m : twoModels().models().values()) {
      for (Deployment d : m.deployments()) {
        String s = d.toString();
        assertFalse(s.contains("sk-very-secret-upstream-key"), s);
        assertFalse(s.contains("very-secret"), s);
        assertTrue(s.contains(d.name()), s);
      }
    }
    // Also when the catalog itself is printed (records print their components).
    assertFalse(twoModels().toString().contains("very-secret"));
  }
}
