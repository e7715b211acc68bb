package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.persistence.NodeShare;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.RightsPool;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantEvent.LeaseGranted;
import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.RightsWanted;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.TenantEvent.WindowRolled;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The escrow across regions, driven at random: nodes in every region acquire from their region's
 * ledger (which grants against the region's rights), spend, finish requests with actual usage
 * above or below the reservation, settle and return; windows roll on skewed region clocks;
 * regions ask for rights and answer each other. Escrow events travel between regions through a
 * network that delays, reorders, duplicates and drops them; the origin's log is the journal, so
 * at quiescence every log reaches every region, as the replication stream does when it resumes.
 *
 * <p>After every step, from the global view: what all regions committed in a window is at most
 * the limit (plus, for tokens, the estimate error), requests admitted per window are at most the
 * limit, slots in use are at most the limit, each region's view of its own rights is at most its
 * true rights, and the true rights of all regions sum to the limit. At quiescence every replica
 * holds the same escrow state.
 */
class EscrowLedgerTest {
  private static final Instant START = Instant.parse("2026-03-01T12:00:00Z");
  private static final int STEPS = 600;
  private static final QuotaSettings QUOTA = new QuotaSettings(Duration.ofMinutes(30), 0.5, 4, 0.25,
      Duration.ofMillis(500), 1000, 100, 64, Duration.ofSeconds(5), Duration.ofSeconds(1), 256, Duration.ofSeconds(2),
      16, 3, Duration.ofSeconds(30), true, 0.01, 100_000, 60, Duration.ofSeconds(1));
  private static final QuotaLedger LEDGER = new QuotaLedger(QUOTA);
  private static final Quantity RPM = Quantity.REQUESTS_PER_MINUTE;
  private static final Quantity TPM = Quantity.TOKENS_PER_MINUTE;
  private static final List<RightsPool> POOLS =
      List.of(RightsPool.REQUESTS_PER_MINUTE, RightsPool.TOKENS_PER_MINUTE, RightsPool.CONCURRENCY);

  static Stream<Long> seeds() {
    return LongStream.range(0, 200).boxed();
  }

  /** One request admitted by a node and not finished yet. */
  private record InFlight(Node node, long window, long reserved, long actual) {}

  /** An escrow event on its way to a region. */
  private record Message(Region to, TenantEvent event) {}

  /** What a node spent of its lease in the window it is in (the node's side of the lease). */
  private static final class Node {
    final String id;
    final Region region;
    long acquireSeq;
    long settleSeq;
    long window = -1;
    long requests;       // admitted in this window
    long tokensSpent;    // finished requests' actual tokens plus in-flight reservations, this window
    long tokensUsed;     // finished requests' actual tokens, this window
    long slotsInUse;

    Node(String id, Region region) {
      this.id = id;
      this.region = region;
    }

    NodeShare share() {
      return region.state.nodes().getOrDefault(id, NodeShare.EMPTY);
    }

    /** Follows the region's minute window: a new window starts from nothing. */
    void follow() {
      long w = region.state.window(WindowKind.MINUTE);
      if (w != window) {
        window = w;
        requests = 0;
        tokensSpent = 0;
        tokensUsed = 0;
      }
    }
  }

  private static final class Region {
    final String name;
    final Escrow escrow;
    final long skewMillis;
    final List<TenantEvent> log = new ArrayList<>();
    final List<Node> nodes = new ArrayList<>();
    TenantState state;

    Region(String name, RegionSettings settings, long skewMillis, TenantState created) {
      this.name = name;
      this.escrow = new Escrow(settings);
      this.skewMillis = skewMillis;
      this.state = created;
    }
  }

  private Random rnd;
  private Instant clock;
  private List<Region> regions;
  private List<Message> network;
  private List<InFlight> inFlight;
  private TenantLimits limits;
  /**
   * Per minute window: requests admitted; tokens charged (actual for finished requests, the
   * reservation for the ones in flight); and the estimate error, the sum of max(0, actual - reserved).
   */
  private Map<Long, long[]> admitted;

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void escrow_randomStepsWithUnreliableDelivery_neverExceedsTheLimitAndConverges(long seed) {
    run(seed);
  }

  /** The runs above are only worth as much as what they exercise: rights move, messages are lost and repeated. */
  @org.junit.jupiter.api.Test
  void escrow_fiftySeeds_exerciseTransfersLossesRepeatsAndRegionsAboveTheirShare() {
    long[] total = new long[Stat.values().length];
    for (long seed = 0; seed < 50; seed++) {
      long[] s = run(seed);
      for (int i = 0; i < total.length; i++) {
        total[i] += s[i];
      }
    }
    for (Stat stat : Stat.values()) {
      assertTrue(total[stat.ordinal()] > 0, stat + " never happened in 50 seeds");
    }
  }

  private enum Stat { WANTED, TRANSFERRED, FUTURE_WINDOW_TRANSFERRED, DROPPED, DUPLICATED, ABOVE_BASE_SHARE }

  private long[] stats;

  private long[] run(long seed) {
    setUp(seed);
    stats = new long[Stat.values().length];
    for (int step = 0; step < STEPS; step++) {
      int action = rnd.nextInt(100);
      if (action < 35) {
        request(pick(allNodes()));
      } else if (action < 50) {
        finish();
      } else if (action < 60) {
        settle(pick(allNodes()));
      } else if (action < 70) {
        answer(pick(regions));
      } else if (action < 90) {
        deliver();
      } else if (action < 93) {
        resync(pick(regions), pick(regions));
      } else {
        clock = clock.plusMillis(rnd.nextInt(9_000));
      }
      checkGlobal("seed " + seed + " step " + step);
    }
    quiesce();
    checkGlobal("seed " + seed + " at quiescence");
    checkConverged("seed " + seed);
    return stats;
  }

  // ---------------------------------------------------------------- setup

  private void setUp(long seed) {
    rnd = new Random(seed);
    clock = START.plusMillis(rnd.nextInt(60_000));
    int r = 2 + rnd.nextInt(3);
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= r; i++) {
      names.add("r" + i);
    }
    Map<String, Integer> weights = new HashMap<>();
    if (rnd.nextInt(4) == 0) {
      for (String n : names) {
        weights.put(n, 1 + rnd.nextInt(3));
      }
    }
    Map<WindowKind, Duration> horizon = Map.of(WindowKind.MINUTE, Duration.ofSeconds(rnd.nextInt(4) * 60L));
    Duration wantInterval = Duration.ofMillis(rnd.nextInt(5_000));
    double donate = rnd.nextBoolean() ? 0.5 : 0.1 + rnd.nextDouble() * 0.4;
    limits = new TenantLimits((long) rnd.nextInt(40), 20L + rnd.nextInt(400), null, null, null,
        (long) 1 + rnd.nextInt(6));
    TenantState created = TenantState.EMPTY.apply(new TenantCreated("acme", limits, null, clock));
    regions = new ArrayList<>();
    for (String n : names) {
      RegionSettings settings = new RegionSettings(n, names, weights, horizon, wantInterval, 0.25, donate);
      Region region = new Region(n, settings, rnd.nextInt(1_500), created);
      int nodes = 1 + rnd.nextInt(3);
      for (int i = 0; i < nodes; i++) {
        region.nodes.add(new Node(n + "-node" + i, region));
      }
      regions.add(region);
      roll(region);
    }
    network = new ArrayList<>();
    inFlight = new ArrayList<>();
    admitted = new HashMap<>();
  }

  // ---------------------------------------------------------------- actions

  private Instant now(Region r) {
    return clock.plusMillis(r.skewMillis);
  }

  private void persist(Region r, List<? extends TenantEvent> events) {
    for (TenantEvent e : events) {
      r.state = r.state.apply(e);
      if (e instanceof RightsWanted) {
        stats[Stat.WANTED.ordinal()]++;
      }
      if (e instanceof RightsTransferred t && t.amount() > 0) {
        stats[Stat.TRANSFERRED.ordinal()]++;
        if (t.windowId() > r.state.window(WindowKind.MINUTE) && t.pool().window() != null) {
          stats[Stat.FUTURE_WINDOW_TRANSFERRED.ordinal()]++;
        }
      }
      if (e instanceof RightsWanted || e instanceof RightsTransferred) {
        r.log.add(e);
        for (Region other : regions) {
          if (other != r) {
            network.add(new Message(other, e));
          }
        }
      }
    }
  }

  private void roll(Region r) {
    persist(r, LEDGER.rolls(r.state, now(r)));
  }

  /** A request arrives at a node: spent from its lease when it covers it, else the node acquires. */
  private void request(Node n) {
    Region r = n.region;
    roll(r);
    n.follow();
    long reserved = 1 + rnd.nextInt(30);
    long actual = Math.max(0, reserved + rnd.nextInt(21) - 12); // sometimes above the reservation
    NodeShare share = n.share();
    boolean covered = share.granted(RPM) - n.requests >= 1 && share.granted(TPM) - n.tokensSpent >= reserved
        && share.slots() - n.slotsInUse >= 1;
    if (!covered) {
      long needRpm = Math.max(0, 1 - (share.granted(RPM) - n.requests));
      long needTpm = Math.max(0, reserved - (share.granted(TPM) - n.tokensSpent));
      long needSlots = Math.max(0, 1 - (share.slots() - n.slotsInUse));
      Map<Quantity, Long> needed = new EnumMap<>(Quantity.class);
      needed.put(RPM, needRpm);
      needed.put(TPM, needTpm);
      Map<Quantity, Long> wanted = Map.of(RPM, needRpm * (1 + rnd.nextInt(4)), TPM, needTpm * (1 + rnd.nextInt(4)));
      QuotaLedger.Grant g = LEDGER.decide(r.state, r.escrow.caps(r.state), n.id, needed, wanted, needSlots,
          needSlots * (1 + rnd.nextInt(3)), now(r));
      Map<WindowKind, Long> windows = windows(r.state);
      if (!g.amounts().isEmpty() || g.slots() > 0) {
        persist(r, List.of(new LeaseGranted(n.id, ++n.acquireSeq, g.amounts(), windows, g.slots(),
            now(r).plus(QUOTA.leaseTtl()), now(r))));
      }
      Map<RightsPool, Long> needs = new EnumMap<>(RightsPool.class);
      needs.put(RightsPool.REQUESTS_PER_MINUTE, g.exhausted().containsKey(RPM) ? needRpm : 0);
      needs.put(RightsPool.TOKENS_PER_MINUTE, g.exhausted().containsKey(TPM) ? needTpm : 0);
      needs.put(RightsPool.CONCURRENCY, g.slotsExhausted() ? needSlots : 0);
      persist(r, r.escrow.wants(r.state, needs, now(r)));
      if (g.denied()) {
        return; // 429
      }
      share = n.share();
      if (share.granted(RPM) - n.requests < 1 || share.granted(TPM) - n.tokensSpent < reserved
          || share.slots() - n.slotsInUse < 1) {
        return; // a prefetch-only answer: 429 as well
      }
    }
    n.requests++;
    n.tokensSpent += reserved;
    n.slotsInUse++;
    long[] a = admitted.computeIfAbsent(n.window, w -> new long[3]);
    a[0]++;
    a[1] += reserved;
    inFlight.add(new InFlight(n, n.window, reserved, actual));
  }

  /** A request ends: its slot is free and its actual tokens replace the reservation. */
  private void finish() {
    if (inFlight.isEmpty()) {
      return;
    }
    InFlight f = inFlight.remove(rnd.nextInt(inFlight.size()));
    Node n = f.node();
    n.slotsInUse--;
    long[] a = admitted.get(f.window());
    a[1] += f.actual() - f.reserved();
    a[2] += Math.max(0, f.actual() - f.reserved());
    if (n.window == f.window()) {
      n.tokensSpent += f.actual() - f.reserved();
      n.tokensUsed += f.actual();
    }
  }

  /** A node reports its usage and returns part of what it holds unspent. */
  private void settle(Node n) {
    Region r = n.region;
    roll(r);
    n.follow();
    NodeShare share = n.share();
    long freeRpm = Math.max(0, share.granted(RPM) - n.requests);
    long freeTpm = Math.max(0, share.granted(TPM) - n.tokensSpent);
    long freeSlots = Math.max(0, share.slots() - n.slotsInUse);
    Map<Quantity, Long> returned = new EnumMap<>(Quantity.class);
    returned.put(RPM, freeRpm == 0 ? 0 : (long) rnd.nextInt((int) freeRpm + 1));
    returned.put(TPM, freeTpm == 0 ? 0 : (long) rnd.nextInt((int) Math.min(freeTpm, 1_000_000) + 1));
    long slotsReturned = freeSlots == 0 ? 0 : rnd.nextInt((int) freeSlots + 1);
    Map<WindowKind, Long> windows = windows(r.state);
    persist(r, List.of(new UsageSettled(n.id, ++n.settleSeq, windows,
        Map.of(WindowKind.MINUTE, new UsageCounters(n.requests, n.tokensUsed, 0, 0)), returned, slotsReturned,
        now(r).plus(QUOTA.leaseTtl()), now(r))));
  }

  private void answer(Region r) {
    roll(r);
    persist(r, r.escrow.answers(r.state, now(r)));
  }

  /** Delivers one message in flight, chosen at random: sometimes lost, sometimes delivered twice. */
  private void deliver() {
    if (network.isEmpty()) {
      return;
    }
    int i = rnd.nextInt(network.size());
    Message m = network.get(i);
    int fate = rnd.nextInt(10);
    if (fate == 0) {
      network.remove(i); // dropped
      stats[Stat.DROPPED.ordinal()]++;
      return;
    }
    if (fate != 1) {
      network.remove(i); // fate 1 keeps it: delivered again later
    } else {
      stats[Stat.DUPLICATED.ordinal()]++;
    }
    m.to().state = m.to().state.apply(m.event());
  }

  /** The replication stream from {@code from} to {@code to} restarts and replays from the start. */
  private void resync(Region from, Region to) {
    if (from == to) {
      return;
    }
    for (TenantEvent e : from.log) {
      to.state = to.state.apply(e);
    }
  }

  /** No new decisions; every region reaches the same minute and every log reaches every region. */
  private void quiesce() {
    clock = Instant.ofEpochSecond((clock.getEpochSecond() / 60 + 1) * 60).plusSeconds(20);
    for (Region r : regions) {
      roll(r);
    }
    Collections.shuffle(network, rnd);
    for (Message m : network) {
      m.to().state = m.to().state.apply(m.event());
    }
    network.clear();
    for (Region to : regions) {
      List<TenantEvent> all = new ArrayList<>();
      for (Region from : regions) {
        if (from != to) {
          all.addAll(from.log);
        }
      }
      Collections.shuffle(all, rnd);
      for (TenantEvent e : all) {
        to.state = to.state.apply(e);
      }
    }
  }

  // ---------------------------------------------------------------- checks

  private void checkGlobal(String where) {
    long rpm = limits.requestsPerMinute();
    long tpm = limits.tokensPerMinute();
    long slots = limits.maxConcurrentRequests();
    // Per minute window, what every region committed there.
    Map<Long, long[]> committed = new HashMap<>();
    long liveSlots = 0;
    for (Region r : regions) {
      long w = r.state.window(WindowKind.MINUTE);
      long[] c = committed.computeIfAbsent(w, k -> new long[2]);
      c[0] += QuotaLedger.committed(r.state, RPM);
      c[1] += QuotaLedger.committed(r.state, TPM);
      liveSlots += QuotaLedger.liveSlots(r.state, now(r));
    }
    committed.forEach((w, c) -> {
      long[] a = admitted.getOrDefault(w, new long[3]);
      assertTrue(c[0] <= rpm, where + ": requests committed in window " + w + " " + c[0] + " > " + rpm);
      assertTrue(c[1] <= tpm + a[2],
          where + ": tokens committed in window " + w + " " + c[1] + " > " + tpm + " + " + a[2]);
    });
    admitted.forEach((w, a) -> {
      assertTrue(a[0] <= rpm, where + ": requests admitted in window " + w + " " + a[0] + " > " + rpm);
      assertTrue(a[1] <= tpm + a[2], where + ": tokens charged in window " + w + " " + a[1] + " > " + tpm + " + "
          + a[2]);
    });
    assertTrue(liveSlots <= slots, where + ": slots held " + liveSlots + " > " + slots);
    long inUse = inFlight.size();
    assertTrue(inUse <= slots, where + ": requests in flight " + inUse + " > " + slots);
    for (RightsPool pool : POOLS) {
      for (long w : windowsOf(pool)) {
        long sum = 0;
        for (Region r : regions) {
          long truth = trueRights(r, pool, w);
          sum += truth;
          if (pool.window() == null || w >= r.state.window(pool.window())) {
            long view = r.escrow.rights(r.state, pool, w);
            assertTrue(view <= truth, where + ": " + r.name + " sees " + view + " rights of " + pool + " in " + w
                + ", its true rights are " + truth);
            assertEquals(trueOutgoing(r, pool, w), r.state.rights().outgoing(pool, w, r.name),
                where + ": " + r.name + " knows its own transfers of " + pool + " in " + w + " exactly");
          }
        }
        assertEquals(Escrow.limit(limits, pool), sum, where + ": true rights of " + pool + " in " + w + " sum to L");
      }
    }
    for (Region r : regions) {
      long base = r.escrow.baseShare(rpm, r.name);
      if (QuotaLedger.committed(r.state, RPM) > base) {
        stats[Stat.ABOVE_BASE_SHARE.ordinal()]++;
      }
      long rightsRpm = Math.max(0, r.escrow.rights(r.state, RightsPool.REQUESTS_PER_MINUTE,
          r.state.window(WindowKind.MINUTE)));
      assertTrue(QuotaLedger.committed(r.state, RPM) <= rightsRpm,
          where + ": " + r.name + " committed more requests than its rights " + rightsRpm);
    }
  }

  /** Every window some region holds escrow entries for, and every region's current one. */
  private TreeSet<Long> windowsOf(RightsPool pool) {
    TreeSet<Long> out = new TreeSet<>();
    for (Region r : regions) {
      out.add(Escrow.currentWindow(r.state, pool));
      for (TenantEvent e : r.log) {
        if (e instanceof RightsTransferred t && t.pool() == pool) {
          out.add(t.windowId());
        }
      }
    }
    return out;
  }

  /** What {@code r} gave away in total, from its own log: the journal is the truth. */
  private static long trueOutgoing(Region r, RightsPool pool, long w) {
    Map<String, Long> byTarget = new HashMap<>();
    for (TenantEvent e : r.log) {
      if (e instanceof RightsTransferred t && t.pool() == pool && t.windowId() == w) {
        byTarget.merge(t.to(), t.total(), Math::max);
      }
    }
    return byTarget.values().stream().mapToLong(Long::longValue).sum();
  }

  private long trueRights(Region r, RightsPool pool, long w) {
    long in = 0;
    for (Region s : regions) {
      long most = 0;
      for (TenantEvent e : s.log) {
        if (e instanceof RightsTransferred t && t.pool() == pool && t.windowId() == w && t.to().equals(r.name)) {
          most = Math.max(most, t.total());
        }
      }
      in += most;
    }
    return r.escrow.baseShare(Escrow.limit(limits, pool), r.name) + in - trueOutgoing(r, pool, w);
  }

  private void checkConverged(String where) {
    Region first = regions.get(0);
    for (Region r : regions) {
      assertEquals(first.state.rights(), r.state.rights(), where + ": " + r.name + " converged with " + first.name);
      for (RightsPool pool : POOLS) {
        long w = Escrow.currentWindow(r.state, pool);
        assertEquals(trueRights(r, pool, w), r.escrow.rights(r.state, pool, w),
            where + ": " + r.name + " sees all its rights of " + pool + " at quiescence");
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private List<Node> allNodes() {
    List<Node> out = new ArrayList<>();
    regions.forEach(r -> out.addAll(r.nodes));
    return out;
  }

  private <T> T pick(List<T> from) {
    return from.get(rnd.nextInt(from.size()));
  }

  private static Map<WindowKind, Long> windows(TenantState s) {
    Map<WindowKind, Long> w = new EnumMap<>(WindowKind.class);
    for (WindowKind k : WindowKind.values()) {
      w.put(k, s.window(k));
    }
    return w;
  }
}
