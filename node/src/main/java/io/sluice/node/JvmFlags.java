package io.sluice.node;

import java.util.List;
import java.util.Optional;

/**
 * Tells an operator who started the node with plain {@code java -jar} what that costs. The node's
 * memory and latency were measured with the launcher's flags (ops/sluice: a fixed heap, the Serial
 * collector, capped metaspace and code cache); without a heap size the JVM takes up to a quarter
 * of the machine's memory and picks its own collector. The node cannot change its own heap once
 * started, so it says so once at start.
 */
public final class JvmFlags {
  private JvmFlags() {}

  /**
   * A warning when {@code inputArguments} (the JVM's, as RuntimeMXBean reports them) set neither a
   * heap size nor a collector; empty when they set either, since then someone chose them.
   */
  public static Optional<String> untunedWarning(List<String> inputArguments, long maxHeapBytes) {
    boolean chosen = inputArguments.stream().anyMatch(a -> a.startsWith("-Xmx") || a.startsWith("-XX:MaxRAMPercentage=")
        || a.startsWith("-XX:MaxHeapSize=") || a.startsWith("-XX:MaxRAM=")
        || (a.startsWith("-XX:+Use") && a.endsWith("GC")));
    if (chosen) {
      return Optional.empty();
    }
    return Optional.of("started without heap or GC flags: the JVM chose a max heap of " + (maxHeapBytes >> 20)
        + " MB and its own collector; ops/sluice starts the node with the tuned flags (README, \"The two commands\")");
  }
}
