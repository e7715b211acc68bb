package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.ConfigLoaderAccess;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RegionSettingsTest {

  /** The shipped defaults with {@code hocon} layered over them, as a --config file would be. */
  private static RegionSettings from(String hocon) {
    Config defaults = ConfigFactory.parseResourcesAnySyntax("application");
    return RegionSettings.from(ConfigFactory.load(ConfigFactory.parseString(hocon).withFallback(defaults)));
  }

  @Test
  void from_shippedDefaults_isSingleRegion() {
    RegionSettings s = RegionSettings.from(ConfigLoaderAccess.loadWithoutEnvironment());
    assertFalse(s.multiRegion());
    assertNull(s.self());
    assertEquals(List.of(), s.regions());
  }

  @Test
  void from_commaSeparatedRegionsAsTheEnvironmentGivesThem_readsThemInOrder() {
    RegionSettings s = from("sluice.regions { self = r2, all = \" r1, r2 ,r3\" }");
    assertTrue(s.multiRegion());
    assertEquals("r2", s.self());
    assertEquals(List.of("r1", "r2", "r3"), s.regions());
    assertEquals(1, s.index("r2"));
    assertEquals(Map.of("r1", 1, "r2", 1, "r3", 1), s.weights());
  }

  @Test
  void from_listAndWeights_readsThem() {
    RegionSettings s = from("sluice.regions { self = eu, all = [eu, us], weights { us = 3 } }");
    assertEquals(List.of("eu", "us"), s.regions());
    assertEquals(Map.of("eu", 1, "us", 3), s.weights());
    assertEquals(Duration.ofMinutes(5), s.horizon().get(WindowKind.MINUTE));
    assertEquals(Duration.ofDays(1), s.horizon().get(WindowKind.DAY));
    assertEquals(Duration.ZERO, s.horizon().get(WindowKind.MONTH));
    assertEquals(Duration.ofSeconds(1), s.wantInterval());
    assertEquals(0.5, s.donateShare());
  }

  @Test
  void from_onlyThisRegionNamed_isSingleRegion() {
    RegionSettings s = from("sluice.regions.self = r1");
    assertFalse(s.multiRegion());
    assertEquals(List.of("r1"), s.regions());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "sluice.regions { all = \"r1,r2\" }",
      "sluice.regions { self = r3, all = \"r1,r2\" }",
      "sluice.regions { self = r1, all = \"r1,r1\" }",
      "sluice.regions { self = r1, all = \"r1,r2\", weights { r9 = 1 } }",
      "sluice.regions { self = r1, all = \"r1,r2\", weights { r2 = 0 } }",
      "sluice.regions { self = r1, all = \"r1,r2\", donate-share = 0.6 }",
      "sluice.regions { self = r1, all = \"r1,r2\", want-below = 2 }"})
  void from_inconsistentSettings_areRejected(String hocon) {
    assertThrows(IllegalArgumentException.class, () -> from(hocon));
  }
}
