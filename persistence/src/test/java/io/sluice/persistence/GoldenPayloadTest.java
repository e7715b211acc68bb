package io.sluice.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.persistence.TenantEvent.CircuitClosed;
import io.sluice.persistence.TenantEvent.CircuitOpened;
import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantEvent.LeaseGranted;
import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.RightsWanted;
import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.TenantEvent.WindowRolled;
import io.sluice.persistence.TenantEvent.KeyRevoked;
import io.sluice.persistence.TenantEvent.LimitsChanged;
import io.sluice.persistence.TenantEvent.LimitsPatched;
import io.sluice.persistence.TenantEvent.ModelsChanged;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.TenantDisabled;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every stored type round-trips through the configured serializer, and the bytes written by an
 * earlier version (the golden payloads in src/test/resources/golden) still read back to the same
 * value. A golden file that is missing is written once with -Dsluice.golden.write=true; after that
 * a change to a stored record fails here until it gets a migration.
 */
class GoldenPayloadTest {

  private static final Instant AT = Instant.parse("2026-11-27T10:15:30.123Z");
  private static final TenantLimits LIMITS =
      new TenantLimits(600L, 100_000L, 2_000_000L, new BigDecimal("12.50"), new BigDecimal("300"), 8L);
  private static final LeaseGranted LEASE = new LeaseGranted("pekko://sluice@127.0.0.1:25520#42", 7,
      Map.of(Quantity.REQUESTS_PER_MINUTE, 10L, Quantity.TOKENS_PER_DAY, 5000L),
      Map.of(WindowKind.MINUTE, 29_000_000L, WindowKind.DAY, 20_419L), 2, AT.plusSeconds(30), AT);
  private static final UsageSettled SETTLED = new UsageSettled("pekko://sluice@127.0.0.1:25520#42", 3,
      Map.of(WindowKind.MINUTE, 29_000_000L), Map.of(WindowKind.MINUTE, new UsageCounters(4, 100, 200, 999)),
      Map.of(Quantity.REQUESTS_PER_MINUTE, 2L), 1, AT.plusSeconds(30), AT);
  private static ActorTestKit testKit;
  private static Serialization serialization;

  @BeforeAll
  static void setUp() {
    testKit = ActorTestKit.create("golden");
    serialization = SerializationExtension.get(testKit.system().classicSystem());
  }

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  static Stream<Object[]> storedValues() {
    TenantState v1 =
        TenantState.EMPTY
            .apply(new TenantCreated("acme", LIMITS, List.of("gpt-4o-mini"), AT))
            .apply(new KeyIssued("key_1", "ab".repeat(32), AT));
    TenantState withQuota = v1
        .apply(new WindowRolled(WindowKind.MINUTE, 29_000_000L, AT))
        .apply(new WindowRolled(WindowKind.DAY, 20_419L, AT))
        .apply(LEASE)
        .apply(SETTLED)
        .apply(new CircuitOpened("openai-1", 429, "rate limited", AT.plusSeconds(30), AT));
    TenantState withRights = withQuota
        .apply(new RightsWanted(RightsPool.REQUESTS_PER_MINUTE, 29_000_000L, "r1", 1, 10, AT))
        .apply(new RightsTransferred(RightsPool.REQUESTS_PER_MINUTE, 29_000_000L, "r2", "r1", 5, 5, 1, AT))
        .apply(new RightsTransferred(RightsPool.CONCURRENCY, RightsPool.NO_WINDOW, "r1", "r2", 1, 1, 0, AT));
    return Stream.of(
        new Object[] {"TenantCreated", new TenantCreated("acme", LIMITS, List.of("gpt-4o-mini"), AT)},
        new Object[] {"TenantCreated-all-models", new TenantCreated("acme", TenantLimits.UNLIMITED, null, AT)},
        new Object[] {"LimitsChanged", new LimitsChanged(LIMITS, AT)},
        new Object[] {"ModelsChanged", new ModelsChanged(List.of("a", "b"), AT)},
        new Object[] {"TenantDisabled", new TenantDisabled(AT)},
        new Object[] {"KeyIssued", new KeyIssued("key_1", "ab".repeat(32), AT)},
        new Object[] {"KeyRevoked", new KeyRevoked("key_1", AT)},
        new Object[] {"TenantState-v1", v1},
        new Object[] {"TenantState", withQuota},
        new Object[] {"LeaseGranted", LEASE},
        new Object[] {"UsageSettled", SETTLED},
        new Object[] {"WindowRolled", new WindowRolled(WindowKind.MONTH, 24_322L, AT)},
        new Object[] {"CircuitOpened", new CircuitOpened("openai-1", 401, "bad key", AT.plusSeconds(60), AT)},
        new Object[] {"CircuitClosed", new CircuitClosed("openai-1", AT)},
        new Object[] {"RightsWanted", new RightsWanted(RightsPool.TOKENS_PER_MINUTE, 29_000_000L, "r2", 3, 4_000, AT)},
        new Object[] {"RightsTransferred",
            new RightsTransferred(RightsPool.REQUESTS_PER_MINUTE, 29_000_001L, "r1", "r2", 5, 12, 3, AT)},
        new Object[] {"RightsTransferred-slots",
            new RightsTransferred(RightsPool.CONCURRENCY, RightsPool.NO_WINDOW, "r1", "r2", 1, 1, 1, AT)},
        new Object[] {"TenantState-regions", withRights},
        new Object[] {"LimitsPatched", new LimitsPatched(new TenantLimits(30L, null, null, null, null, 2L), AT)},
        new Object[] {"ReplicatedTenantState", new ReplicatedTenantState(withRights,
            Map.of("enabled", new ReplicatedTenantState.Stamp(AT.toEpochMilli(), "r1"),
                "limits.requests_per_minute", new ReplicatedTenantState.Stamp(AT.toEpochMilli() + 5, "r2")),
            Map.of("key_9", AT), java.util.Set.of("r1", "r2"), java.util.Set.of())},
        new Object[] {"ReplicatedTenantState-others", new ReplicatedTenantState(withRights,
            Map.of("enabled", new ReplicatedTenantState.Stamp(AT.toEpochMilli(), "r1")), Map.of(),
            java.util.Set.of("r1", "r2"), java.util.Set.of(), Map.of(), Map.of("r2", withRights))},
        new Object[] {"TenantImported", new TenantEvent.TenantImported("acme", true, LIMITS, List.of("gpt-4o-mini"),
            List.of(new TenantState.KeyRecord("key_1", "ab".repeat(32), AT, null),
                new TenantState.KeyRecord("key_2", "cd".repeat(32), AT, AT.plusSeconds(5))),
            AT.minusSeconds(3600), Map.of(WindowKind.MINUTE, 29_000_000L, WindowKind.DAY, 20_419L),
            Map.of(Quantity.TOKENS_PER_DAY, 1234L), AT)},
        new Object[] {"KeyIssued-lifecycle", new KeyIssued("key_2", "cd".repeat(32), AT, AT.plusSeconds(86_400),
            List.of("gpt-4o-mini"), new KeyLimits(30L, 20_000L))},
        new Object[] {"KeyExpirySet", new TenantEvent.KeyExpirySet("key_1", AT.plusSeconds(300), AT)},
        new Object[] {"KeyLimits", new KeyLimits(30L, null)},
        new Object[] {"KeyRecord-lifecycle", new TenantState.KeyRecord("key_2", "cd".repeat(32), AT, null,
            AT.plusSeconds(300), List.of("gpt-4o-mini"), new KeyLimits(null, 5_000L))},
        new Object[] {"ReplicatedTenantState-expiries", new ReplicatedTenantState(
            v1.apply(new KeyIssued("key_2", "cd".repeat(32), AT, AT.plusSeconds(600), null, new KeyLimits(5L, null)))
                .apply(new TenantEvent.KeyExpirySet("key_2", AT.plusSeconds(60), AT)),
            Map.of("enabled", new ReplicatedTenantState.Stamp(AT.toEpochMilli(), "r1")), Map.of(),
            java.util.Set.of("r1"), java.util.Set.of(), Map.of("key_2", AT.plusSeconds(60)))},
        new Object[] {"UsageCounters", new UsageCounters(3, 40, 50, 1_234_567)},
        new Object[] {"TenantLimits", LIMITS},
        new Object[] {"KeyRecord", new TenantState.KeyRecord("key_1", "cd".repeat(32), AT, AT)},
        new Object[] {"AdminKeyIssued", new AdminKeyEvent.AdminKeyIssued("adm_1", "ef".repeat(32),
            AdminRole.TENANT_ADMIN, List.of("acme", "globex"), AT)},
        new Object[] {"AdminActionRecorded", new TenantEvent.AdminActionRecorded("key.revoke", "key_1", "adm_1",
            "127.0.0.1", "req_1", AT)},
        new Object[] {"AdminKeyRevoked", new AdminKeyEvent.AdminKeyRevoked("adm_1", AT)},
        new Object[] {"AdminKeyState", AdminKeyState.EMPTY
            .apply(new AdminKeyEvent.AdminKeyIssued("adm_1", "ef".repeat(32), AdminRole.ADMIN, List.of(), AT))
            .apply(new AdminKeyEvent.AdminKeyIssued("adm_2", "12".repeat(32), AdminRole.TENANT_ADMIN,
                List.of("acme"), AT))
            .apply(new AdminKeyEvent.AdminKeyRevoked("adm_1", AT.plusSeconds(5)))});
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("storedValues")
  void serialize_storedValue_roundTripsToEqualValue(String name, Object value) {
    assertEquals(value, roundTrip(value));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("storedValues")
  void deserialize_goldenPayload_readsBackSameValue(String name, Object value) throws IOException {
    Path golden = Path.of("src/test/resources/golden", name + ".cbor.hex");
    var serializer = serialization.findSerializerFor(value);
    String manifest = Serializers.manifestFor(serializer, value);
    if (!Files.exists(golden) && Boolean.getBoolean("sluice.golden.write")) {
      byte[] bytes = serialization.serialize(value).get();
      Files.writeString(golden, manifest + "\n" + HexFormat.of().formatHex(bytes) + "\n");
    }
    assertTrue(Files.exists(golden), "missing golden payload " + golden
        + "; write it once with -Dsluice.golden.write=true");
    List<String> lines = Files.readAllLines(golden, StandardCharsets.UTF_8);
    byte[] stored = HexFormat.of().parseHex(lines.get(1).trim());
    Object read = serialization.deserialize(stored, serializer.identifier(), lines.get(0)).get();
    assertEquals(value, read);
  }

  private static Object roundTrip(Object value) {
    byte[] bytes = serialization.serialize(value).get();
    var serializer = serialization.findSerializerFor(value);
    return serialization
        .deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, value))
        .get();
  }

}
