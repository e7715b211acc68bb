package io.sluice.bench.load;

import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Creates many benchmark tenants, each with one key, through a node's admin API, and writes the
 * keys to a file, one a line. Bounded in count ({@code --count}) and time ({@code --max-seconds}):
 * when time runs out it stops starting tenants, waits for those in flight and writes what it has.
 * A tenant that already exists (409) still gets a new key.
 *
 * <pre>
 * java -cp ops/bench-jmh/target/benchmarks.jar io.sluice.bench.load.TenantSetup \
 *   --url http://127.0.0.1:8080 --admin-key K --count 10000 --prefix t- --out keys.txt
 * </pre>
 */
public final class TenantSetup {
  private static final Pattern KEY = Pattern.compile("\"key\"\\s*:\\s*\"([^\"]+)\"");
  /** Limits high enough never to throttle a benchmark. */
  static final String LIMITS = "{\"requests_per_minute\":100000000,\"tokens_per_minute\":10000000000,"
      + "\"spend_usd_per_day\":1000000}";

  private TenantSetup() {}

  public static void main(String[] args) throws Exception {
    String url = null;
    String adminKey = null;
    int count = 10_000;
    String prefix = "t-";
    Path out = null;
    int concurrency = 8;
    double maxSeconds = 600;
    for (int i = 0; i + 1 < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--url" -> url = v;
        case "--admin-key" -> adminKey = v;
        case "--count" -> count = Integer.parseInt(v);
        case "--prefix" -> prefix = v;
        case "--out" -> out = Path.of(v);
        case "--concurrency" -> concurrency = Integer.parseInt(v);
        case "--max-seconds" -> maxSeconds = Double.parseDouble(v);
        default -> {
          System.err.println("tenant-setup: unknown flag " + args[i]);
          System.exit(2);
        }
      }
    }
    if (url == null || adminKey == null || out == null || count < 1 || count > 1_000_000
        || concurrency < 1 || concurrency > 256) {
      System.err.println("usage: TenantSetup --url URL --admin-key K --out FILE [--count N<=1000000]"
          + " [--prefix P] [--concurrency 1..256] [--max-seconds S]");
      System.exit(2);
    }
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    long deadline = System.nanoTime() + (long) (maxSeconds * 1e9);
    Semaphore slots = new Semaphore(concurrency);
    ConcurrentHashMap<Integer, String> keys = new ConcurrentHashMap<>();
    AtomicInteger failures = new AtomicInteger();
    long started = System.nanoTime();
    int launched = 0;
    for (int i = 1; i <= count; i++) {
      if (System.nanoTime() > deadline) {
        System.err.println("tenant-setup: time is up after " + launched + " tenants");
        break;
      }
      if (!slots.tryAcquire(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS)) {
        break;
      }
      launched++;
      String id = String.format(Locale.ROOT, "%s%05d", prefix, i);
      int n = i;
      create(client, url, adminKey, id).whenComplete((key, error) -> {
        if (key != null) {
          keys.put(n, key);
        } else {
          if (failures.incrementAndGet() <= 5) {
            System.err.println("tenant-setup: " + id + ": " + (error == null ? "no key" : error.getMessage()));
          }
        }
        slots.release();
      });
      if (i % 2000 == 0) {
        System.err.printf(Locale.ROOT, "tenant-setup: %d tenants started in %.1f s%n", i, (System.nanoTime() - started) / 1e9);
      }
    }
    // Wait for those in flight (each request has its own timeout, so this ends).
    slots.tryAcquire(concurrency, 60, TimeUnit.SECONDS);
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8))) {
      keys.keySet().stream().sorted().forEach(n -> w.println(keys.get(n)));
    }
    System.out.printf(Locale.ROOT, "TENANTS created=%d failed=%d seconds=%.1f%n", keys.size(), failures.get(),
        (System.nanoTime() - started) / 1e9);
    System.exit(keys.isEmpty() ? 1 : 0);
  }

  private static CompletableFuture<String> create(HttpClient client, String url, String adminKey, String id) {
    HttpRequest tenant = post(url + "/admin/v1/tenants", adminKey,
        "{\"id\":\"" + id + "\",\"limits\":" + LIMITS + "}");
    HttpRequest key = post(url + "/admin/v1/tenants/" + id + "/keys", adminKey, "");
    return client.sendAsync(tenant, HttpResponse.BodyHandlers.ofString())
        .thenCompose(r -> {
          if (r.statusCode() != 201 && r.statusCode() != 409) {
            throw new IllegalStateException("create answered " + r.statusCode() + ": " + r.body());
          }
          return client.sendAsync(key, HttpResponse.BodyHandlers.ofString());
        })
        .thenApply(r -> {
          Matcher m = KEY.matcher(r.body());
          if (r.statusCode() != 201 || !m.find()) {
            throw new IllegalStateException("key answered " + r.statusCode() + ": " + r.body());
          }
          return m.group(1);
        });
  }

  private static HttpRequest post(String url, String adminKey, String body) {
    return HttpRequest.newBuilder(URI.create(url))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + adminKey)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }
}
