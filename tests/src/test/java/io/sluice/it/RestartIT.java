package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** State lives in the embedded journal: a restarted node still knows its tenants and keys. */
class RestartIT {
  private static MockUpstream mock;
  private static SluiceNode node;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("restart");
    // Usage is settled only when the node leaves, so a restart shows what the leaving node settled.
    node = SluiceNode.start("restart", Fixtures.models(mock) + "\nsluice.quota.settle-interval = 10m\n");
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @Test
  void restart_tenantsAndKeys_survive() {
    String id = Fixtures.tenant("durable");
    String kept = Api.tenantWithKey(node, id, "\"limits\":{\"requests_per_minute\":42},\"models\":[\"gpt-4o-mini\"]");
    JsonNode revokedKey = Api.json(Api.admin(node, "POST", "/admin/v1/tenants/" + id + "/keys", null).body());
    assertEquals(200, Api.admin(node, "DELETE", "/admin/v1/tenants/" + id + "/keys/" + revokedKey.get("id").asText(), null).statusCode());
    String gone = Fixtures.tenant("gone");
    String goneKey = Api.tenantWithKey(node, gone, null);
    assertEquals(200, Api.admin(node, "DELETE", "/admin/v1/tenants/" + gone, null).statusCode());

    node.restart();

    JsonNode t = Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + id, null).body());
    assertEquals(42, t.at("/limits/requests_per_minute").asInt());
    assertEquals(1, t.get("active_keys").asInt());
    assertEquals(200, Api.chat(node, kept, Api.chatBody("gpt-4o-mini", null)).statusCode());
    assertEquals(401, Api.chat(node, revokedKey.get("key").asText(), Api.chatBody("gpt-4o-mini", null)).statusCode());
    assertEquals(401, Api.chat(node, goneKey, Api.chatBody("gpt-4o-mini", null)).statusCode());
    assertFalse(Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + gone, null).body()).get("enabled").asBoolean());
    assertEquals(2, Api.json(Api.admin(node, "GET", "/admin/v1/tenants/" + id + "/keys", null).body()).get("data").size());
  }

  /**
   * A leaving node settles every tenant it served and hands their leases back. 1,500 tenants are
   * more than the embedded journal's write queue held before (1,000): all settled at once, the
   * writes overflowed it, the failures opened the journal's circuit breaker and most settlements
   * were lost.
   */
  @Test
  void restart_afterOneRequestEachOf1500Tenants_everyRequestSettled() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 1500; i++) {
      ids.add(Fixtures.tenant("many"));
    }
    String body = Api.chatBody("gpt-4o-mini", null);
    inParallel(ids, id -> {
      String key = Api.tenantWithKey(node, id, null);
      assertEquals(200, Api.chat(node, key, body).statusCode());
      return null;
    });

    node.restart();

    List<Long> settled = inParallel(ids, id -> Api.json(
        Api.admin(node, "GET", "/admin/v1/tenants/" + id + "/usage", null).body()).at("/windows/month/requests/used").asLong());
    assertEquals(ids.size(), settled.stream().filter(n -> n == 1).count(), "tenants whose one request was settled");
  }

  /** Applies {@code call} to every id on 8 threads; bounded by 120 s. */
  private static <T> List<T> inParallel(List<String> ids, ThrowingFunction<T> call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (String id : ids) {
        futures.add(pool.submit((Callable<T>) () -> call.apply(id)));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      List<T> out = new ArrayList<>();
      for (Future<T> f : futures) {
        out.add(f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private interface ThrowingFunction<T> {
    T apply(String id) throws Exception;
  }
}
