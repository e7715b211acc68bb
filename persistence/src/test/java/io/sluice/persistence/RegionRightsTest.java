package io.sluice.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.RightsWanted;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RegionRightsTest {
  private static final Instant AT = Instant.parse("2026-03-01T12:00:30Z");
  private static final RightsPool RPM = RightsPool.REQUESTS_PER_MINUTE;

  private static RightsTransferred transfer(long window, String from, String to, long amount, long total, long seq) {
    return new RightsTransferred(RPM, window, from, to, amount, total, seq, AT);
  }

  private static RegionRights applyAll(RegionRights r, List<TenantEvent> events) {
    for (TenantEvent e : events) {
      r = e instanceof RightsWanted w ? r.apply(w) : r.apply((RightsTransferred) e);
    }
    return r;
  }

  @Test
  void apply_transfersInAnyOrderAndRepeated_keepTheLargestTotal() {
    RegionRights r = RegionRights.EMPTY
        .apply(transfer(5, "r2", "r1", 3, 7, 2))
        .apply(transfer(5, "r2", "r1", 4, 4, 1))
        .apply(transfer(5, "r2", "r1", 3, 7, 2));
    assertEquals(7, r.transferred(RPM, 5, "r2", "r1"));
    assertEquals(2, r.transfer(RPM, 5, "r2", "r1").answeredSeq());
    assertEquals(7, r.incoming(RPM, 5, "r1"));
    assertEquals(7, r.outgoing(RPM, 5, "r2"));
    assertEquals(0, r.incoming(RPM, 6, "r1"));
  }

  @Test
  void apply_olderWant_keepsTheNewer() {
    RegionRights r = RegionRights.EMPTY
        .apply(new RightsWanted(RPM, 5, "r1", 2, 9, AT))
        .apply(new RightsWanted(RPM, 5, "r1", 1, 3, AT));
    assertEquals(new RegionRights.Want(RPM, 5, "r1", 2, 9, AT), r.want(RPM, 5, "r1"));
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void apply_shuffledAndDuplicatedDeliveries_giveEqualValues(long seed) {
    Random rnd = new Random(seed);
    List<TenantEvent> events = new ArrayList<>();
    long[] totals = new long[4];
    for (int i = 0; i < 30; i++) {
      int pair = rnd.nextInt(4);
      String from = pair < 2 ? "r1" : "r2";
      String to = pair % 2 == 0 ? "r3" : (from.equals("r1") ? "r2" : "r1");
      long amount = 1 + rnd.nextInt(5);
      totals[pair] += amount;
      events.add(new RightsTransferred(RPM, 5 + rnd.nextInt(2), from, to, amount, totals[pair], i, AT));
      events.add(new RightsWanted(RightsPool.CONCURRENCY, 0, to, i, amount, AT));
    }
    RegionRights inOrder = applyAll(RegionRights.EMPTY, events);
    List<TenantEvent> shuffled = new ArrayList<>(events);
    shuffled.addAll(events.subList(0, 10));
    Collections.shuffle(shuffled, rnd);
    assertEquals(inOrder, applyAll(RegionRights.EMPTY, shuffled));
  }

  @Test
  void prune_endedWindows_dropsTheirEntriesButNotSlotsOrOtherKinds() {
    RegionRights r = RegionRights.EMPTY
        .apply(transfer(5, "r2", "r1", 1, 1, 1))
        .apply(transfer(6, "r2", "r1", 1, 1, 1))
        .apply(new RightsTransferred(RightsPool.TOKENS_PER_DAY, 2, "r2", "r1", 1, 1, 1, AT))
        .apply(new RightsTransferred(RightsPool.CONCURRENCY, 0, "r2", "r1", 1, 1, 1, AT))
        .apply(new RightsWanted(RPM, 5, "r1", 1, 1, AT));
    RegionRights pruned = r.prune(WindowKind.MINUTE, 6);
    assertEquals(0, pruned.transferred(RPM, 5, "r2", "r1"));
    assertEquals(1, pruned.transferred(RPM, 6, "r2", "r1"));
    assertEquals(1, pruned.transferred(RightsPool.TOKENS_PER_DAY, 2, "r2", "r1"));
    assertEquals(1, pruned.transferred(RightsPool.CONCURRENCY, 0, "r2", "r1"));
    assertEquals(null, pruned.want(RPM, 5, "r1"));
  }

  @Test
  void tenantStateApply_transferForAnEndedWindow_isDropped() {
    TenantState s = TenantState.EMPTY
        .apply(new TenantEvent.TenantCreated("acme", TenantLimits.UNLIMITED, null, AT))
        .apply(new TenantEvent.WindowRolled(WindowKind.MINUTE, 6, AT))
        .apply(transfer(5, "r2", "r1", 1, 1, 1))
        .apply(transfer(6, "r2", "r1", 2, 2, 1));
    assertEquals(0, s.rights().transferred(RPM, 5, "r2", "r1"));
    assertEquals(2, s.rights().transferred(RPM, 6, "r2", "r1"));
    assertEquals(RegionRights.EMPTY.prune(WindowKind.MINUTE, 7),
        s.apply(new TenantEvent.WindowRolled(WindowKind.MINUTE, 7, AT)).rights());
  }
}
