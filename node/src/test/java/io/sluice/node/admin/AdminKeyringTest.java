package io.sluice.node.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sluice.persistence.AdminKeyEvent;
import io.sluice.persistence.AdminKeyState;
import io.sluice.persistence.AdminRole;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AdminKeyringTest {
  private static final Instant AT = Instant.parse("2026-12-07T10:00:00Z");
  private final AtomicLong clock = new AtomicLong();
  private final AtomicReference<AdminKeyState> stored = new AtomicReference<>(AdminKeyState.EMPTY);
  private final AtomicInteger loads = new AtomicInteger();
  private final AdminKeyring ring = new AdminKeyring(() -> {
    loads.incrementAndGet();
    return CompletableFuture.completedFuture(stored.get());
  }, Duration.ofSeconds(30), clock::get);

  private static AdminKeyState issued() {
    return AdminKeyState.EMPTY.apply(new AdminKeyEvent.AdminKeyIssued("adm_1", "h1", AdminRole.READ_ONLY, List.of(), AT));
  }

  @Test
  void find_issuedKey_isFoundAndCachedUntilRefresh() {
    stored.set(issued());
    assertEquals("adm_1", ring.find("h1").toCompletableFuture().join().keyId());
    assertNull(ring.find("h2").toCompletableFuture().join());
    assertEquals(1, loads.get());
    clock.addAndGet(Duration.ofSeconds(31).toNanos());
    ring.find("h1").toCompletableFuture().join();
    assertEquals(2, loads.get());
  }

  @Test
  void onChanged_revocationPushed_keyIsNotFoundAndOlderStateCannotRestoreIt() {
    AdminKeyState issued = issued();
    ring.onChanged(issued);
    AdminKeyState revoked = issued.apply(new AdminKeyEvent.AdminKeyRevoked("adm_1", AT.plusSeconds(1)));
    ring.onChanged(revoked);
    assertNull(ring.find("h1").toCompletableFuture().join());
    ring.onChanged(issued); // a late reply
    assertNull(ring.find("h1").toCompletableFuture().join());
    assertEquals(0, loads.get());
  }
}
