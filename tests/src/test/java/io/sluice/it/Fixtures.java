package io.sluice.it;

import java.util.concurrent.atomic.AtomicInteger;

/** Node configurations the end-to-end tests share. */
final class Fixtures {
  static final String UPSTREAM_KEY = "upstream-secret-key-0123456789";
  private static final AtomicInteger TENANTS = new AtomicInteger();

  private Fixtures() {}

  /** A unique tenant id for one test. */
  static String tenant(String prefix) {
    return prefix + "-" + TENANTS.incrementAndGet() + "-" + ProcessHandle.current().pid();
  }

  /**
   * Models served by {@code mock}, plus one whose upstream refuses connections ("dead"), one with
   * a short first-byte timeout ("slow"), and one whose upstream name differs ("alias").
   */
  static String models(MockUpstream mock) {
    int closedPort = Repo.freePort();
    return """
        sluice.models {
          "gpt-4o-mini" {
            price { input-per-million = 0.15, output-per-million = 0.60 }
            deployments = [{ name = "mock-1", provider = openai, base-url = "%1$s", model = "gpt-4o-mini",
                             api-key = "%3$s" }]
          }
          "alias" {
            deployments = [{ name = "mock-alias", provider = openai, base-url = "%1$s", model = "upstream-real-name",
                             api-key = "%3$s" }]
          }
          "text-embedding-3-small" {
            deployments = [{ name = "mock-embed", provider = openai, base-url = "%1$s", api-key = "%3$s" }]
          }
          "dead" {
            deployments = [{ name = "dead-1", provider = openai, base-url = "http://127.0.0.1:%2$d/v1",
                             timeouts.connect = 1s }]
          }
          "priced" {
            price { input-per-million = 1000, output-per-million = 1000 }
            deployments = [{ name = "mock-priced", provider = openai, base-url = "%1$s" }]
          }
          "slow" {
            deployments = [{ name = "slow-1", provider = openai, base-url = "%1$s", timeouts.first-byte = 300ms }]
          }
        }
        sluice.http.max-request-body = 64k
        """.formatted(mock.baseUrl(), closedPort, UPSTREAM_KEY);
  }
}
