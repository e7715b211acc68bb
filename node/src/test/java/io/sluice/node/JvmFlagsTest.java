package io.sluice.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JvmFlagsTest {
  @Test
  void untunedWarning_noHeapOrCollector_namesTheChosenHeapAndTheLauncher() {
    Optional<String> warning = JvmFlags.untunedWarning(List.of("-Dfoo=bar", "-Xss512k"), 4096L << 20);
    assertTrue(warning.isPresent());
    assertTrue(warning.get().contains("4096 MB"), warning.get());
    assertTrue(warning.get().contains("ops/sluice"), warning.get());
  }

  @ParameterizedTest
  @ValueSource(strings = {"-Xmx192m", "-XX:MaxRAMPercentage=50", "-XX:MaxHeapSize=256m", "-XX:MaxRAM=1g",
      "-XX:+UseSerialGC", "-XX:+UseZGC", "-XX:+UseG1GC"})
  void untunedWarning_heapOrCollectorChosen_isEmpty(String flag) {
    assertEquals(Optional.empty(), JvmFlags.untunedWarning(List.of("-Dfoo=bar", flag), 192L << 20));
  }

  @Test
  void untunedWarning_otherXXFlagsOnly_stillWarns() {
    assertTrue(JvmFlags.untunedWarning(List.of("-XX:+UseCompressedOops", "-XX:MaxMetaspaceSize=128m"), 1L << 30).isPresent());
  }
}
