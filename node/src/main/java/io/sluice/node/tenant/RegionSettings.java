package io.sluice.node.tenant;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which regions exist, which one this node is in, and how regions move escrow rights ({@code
 * sluice.regions}, with {@code SLUICE_REGION} and {@code SLUICE_REGIONS}). Without them the node
 * is single-region exactly as before: {@link #multiRegion()} is false and nothing here is used.
 *
 * @param self this node's region (the replica id), or null when single-region
 * @param regions every region in index order; a region's index decides its share of the
 *     remainder ({@link Escrow#baseShare}), so every node of every region must list them alike
 * @param weights static weight per region (all 1 unless configured); deployment-wide, never per
 *     tenant, because two weightings in use at once could sum past a limit
 * @param horizon per window kind, how far ahead a donor also gives rights for the windows that
 *     start within it, so that a skew learned before a partition keeps working through it
 * @param wantInterval at least this long between two requests for rights of one pool and window
 * @param wantBelow a region asks when its free rights after the waiting need fall below this
 *     fraction of its base share
 * @param donateShare a donor gives at most this fraction of its free rights per answer (at most
 *     one half, the node-grant rule: no ping-pong, and the window ends unit by unit)
 */
public record RegionSettings(
    String self,
    List<String> regions,
    Map<String, Integer> weights,
    Map<WindowKind, Duration> horizon,
    Duration wantInterval,
    double wantBelow,
    double donateShare) {

  public RegionSettings {
    regions = List.copyOf(regions);
    if (regions.size() != regions.stream().distinct().count()) {
      throw new IllegalArgumentException("sluice.regions.all lists a region twice: " + regions);
    }
    if (!regions.isEmpty() && (self == null || !regions.contains(self))) {
      throw new IllegalArgumentException("sluice.regions.self (SLUICE_REGION) must be one of sluice.regions.all "
          + "(SLUICE_REGIONS) " + regions + ", was " + self);
    }
    Map<String, Integer> w = new LinkedHashMap<>();
    for (String r : regions) {
      int weight = weights.getOrDefault(r, 1);
      if (weight < 1) {
        throw new IllegalArgumentException("sluice.regions.weights." + r + " must be at least 1");
      }
      w.put(r, weight);
    }
    for (String r : weights.keySet()) {
      if (!regions.contains(r)) {
        throw new IllegalArgumentException("sluice.regions.weights names unknown region " + r);
      }
    }
    weights = Map.copyOf(w);
    Map<WindowKind, Duration> h = new EnumMap<>(WindowKind.class);
    for (WindowKind k : WindowKind.values()) {
      Duration d = horizon.getOrDefault(k, Duration.ZERO);
      if (d.isNegative()) {
        throw new IllegalArgumentException("sluice.regions.transfer-horizon must not be negative");
      }
      h.put(k, d);
    }
    horizon = Map.copyOf(h);
    if (!(donateShare > 0 && donateShare <= 0.5)) {
      throw new IllegalArgumentException("sluice.regions.donate-share must be in (0, 0.5], was " + donateShare);
    }
    if (!(wantBelow >= 0 && wantBelow <= 1)) {
      throw new IllegalArgumentException("sluice.regions.want-below must be in [0, 1], was " + wantBelow);
    }
    if (wantInterval.isNegative()) {
      throw new IllegalArgumentException("sluice.regions.want-interval must not be negative");
    }
  }

  /** A single region: no replicas, no escrow. */
  public static final RegionSettings SINGLE = new RegionSettings(null, List.of(), Map.of(), Map.of(),
      Duration.ofSeconds(1), 0.25, 0.5);

  /** Whether this node is one of several regions (two or more configured). */
  public boolean multiRegion() {
    return regions.size() > 1;
  }

  /** This region's index in {@link #regions}. */
  public int index(String region) {
    int i = regions.indexOf(region);
    if (i < 0) {
      throw new IllegalArgumentException("unknown region " + region);
    }
    return i;
  }

  public static RegionSettings from(Config config) {
    Config c = config.getConfig("sluice.regions");
    String self = c.getString("self").trim();
    List<String> all = names(c);
    if (all.isEmpty() && !self.isEmpty()) {
      all = List.of(self); // one named region is still a single region
    }
    Map<String, Integer> weights = new LinkedHashMap<>();
    Config wc = c.getConfig("weights");
    for (String r : wc.root().keySet()) {
      weights.put(r, wc.getInt(r));
    }
    Map<WindowKind, Duration> horizon = new EnumMap<>(WindowKind.class);
    Config hc = c.getConfig("transfer-horizon");
    for (WindowKind k : WindowKind.values()) {
      String key = k.name().toLowerCase();
      if (hc.hasPath(key)) {
        horizon.put(k, hc.getDuration(key));
      }
    }
    return new RegionSettings(self.isEmpty() ? null : self, all, weights, horizon,
        c.getDuration("want-interval"), c.getDouble("want-below"), c.getDouble("donate-share"));
  }

  /** {@code all} as a HOCON list or, as SLUICE_REGIONS gives it, one comma-separated string. */
  private static List<String> names(Config c) {
    List<String> raw = c.getValue("all").valueType() == ConfigValueType.LIST
        ? c.getStringList("all") : List.of(c.getString("all").split(","));
    List<String> out = new ArrayList<>();
    for (String r : raw) {
      if (!r.isBlank()) {
        out.add(r.trim());
      }
    }
    return out;
  }
}
