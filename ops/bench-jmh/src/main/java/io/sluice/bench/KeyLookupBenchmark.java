package io.sluice.bench;

import io.sluice.node.auth.ApiKeys;
import io.sluice.node.auth.TenantView;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Key lookup as the request path does it once the tenant is cached (Gate.authenticate):
 * the bearer token out of the Authorization header, the tenant id out of the key
 * ({@link ApiKeys#tenantOf}, a regex match), the key's SHA-256 in hex ({@link ApiKeys#hash}) and
 * the check against the tenant's active key hashes ({@link TenantView#accepts}). The Caffeine
 * look-up of the tenant itself is left out. {@code authenticate} is the sum; the others are its
 * parts.
 *
 * <p>Run: {@code java -jar ops/bench-jmh/target/benchmarks.jar KeyLookupBenchmark -f1 -wi 3 -i 5}
 * (add {@code -prof gc} for bytes allocated per operation).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class KeyLookupBenchmark {
  String header;
  String key;
  String keyHash;
  TenantView view;

  @Setup
  public void setup() {
    String tenant = "acme-production";
    key = ApiKeys.newKey(tenant);
    header = "Bearer " + key;
    keyHash = ApiKeys.hash(key);
    Instant at = Instant.parse("2025-01-01T00:00:00Z");
    TenantState state = TenantState.EMPTY
        .apply(new TenantEvent.TenantCreated(tenant, TenantLimits.UNLIMITED, null, at))
        .apply(new TenantEvent.KeyIssued("key_1", ApiKeys.hash(ApiKeys.newKey(tenant)), at))
        .apply(new TenantEvent.KeyIssued("key_2", keyHash, at))
        .apply(new TenantEvent.KeyIssued("key_3", ApiKeys.hash(ApiKeys.newKey(tenant)), at));
    view = TenantView.of(tenant, state);
    if (!view.accepts(ApiKeys.hash(ApiKeys.bearer(header)))) {
      throw new IllegalStateException("the benchmark's key is not accepted");
    }
  }

  /** The whole check: bearer, tenantOf, hash, accepts. */
  @Benchmark
  public boolean authenticate(Blackhole bh) {
    String k = ApiKeys.bearer(header);
    bh.consume(ApiKeys.tenantOf(k));
    return view.accepts(ApiKeys.hash(k));
  }

  @Benchmark
  public String bearer() {
    return ApiKeys.bearer(header);
  }

  @Benchmark
  public String tenantOf() {
    return ApiKeys.tenantOf(key);
  }

  @Benchmark
  public String hash() {
    return ApiKeys.hash(key);
  }

  /** A hash-set look-up with a fresh (not yet hashed) string, as on the request path. */
  @Benchmark
  public boolean accepts() {
    return view.accepts(new String(keyHash));
  }
}
