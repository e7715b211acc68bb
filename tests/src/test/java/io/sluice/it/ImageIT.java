package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OCI image that `mvn verify` builds (node/target/sluice-image.tar, Jib, profile "image" of
 * node/pom.xml): its config (entrypoint, non-root user, ports, environment, volume) against the
 * node's contract, its files (the launcher as in ops/sluice, an executable runtime), and, where the
 * test may chroot, the image's file tree started as its user the way a container runtime would.
 */
class ImageIT {
  private static final Path TAR = Repo.root().resolve("node/target/sluice-image.tar");
  private static JsonNode config;
  private static List<String> layers;

  @BeforeAll
  static void readImage() throws IOException {
    // The profile is active where the JDK 25 it links from is installed; there the tar must exist.
    boolean jdk25 = Files.isExecutable(Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/jlink"));
    Assumptions.assumeTrue(jdk25 || Files.exists(TAR), "no JDK 25 to build the image from, and no image");
    assertTrue(Files.isRegularFile(TAR), TAR + " is built by mvn verify (node, profile image)");
    Map<String, byte[]> index = entries(TAR, Set.of("index.json"));
    JsonNode idx = Api.JSON.readTree(index.get("index.json"));
    String manifestBlob = blob(idx.at("/manifests/0/digest").asText());
    JsonNode manifest = Api.JSON.readTree(entries(TAR, Set.of(manifestBlob)).get(manifestBlob));
    String configBlob = blob(manifest.at("/config/digest").asText());
    config = Api.JSON.readTree(entries(TAR, Set.of(configBlob)).get(configBlob)).get("config");
    layers = new ArrayList<>();
    manifest.get("layers").forEach(l -> layers.add(blob(l.get("digest").asText())));
  }

  @Test
  void config_entrypointUserPortsEnv_matchTheLauncherAndTheNodesContract() {
    List<String> entrypoint = new ArrayList<>();
    config.get("Entrypoint").forEach(e -> entrypoint.add(e.asText()));
    assertEquals(List.of("/bin/sh", "/opt/sluice/bin/sluice"), entrypoint);

    String user = config.get("User").asText();
    assertTrue(user.matches("\\d+(:\\d+)?"), "numeric user, so runAsNonRoot can check it: " + user);
    assertTrue(Integer.parseInt(user.split(":")[0]) != 0, "non-root user: " + user);

    Set<String> ports = new TreeSet<>();
    config.get("ExposedPorts").fieldNames().forEachRemaining(ports::add);
    assertEquals(new TreeSet<>(Set.of(NodeContract.httpPort() + "/tcp", NodeContract.remotingPort() + "/tcp")), ports);

    Map<String, String> env = env();
    for (String name : env.keySet()) {
      assertTrue(name.equals("PATH") || NodeContract.allVariables().contains(name),
          name + " is read by neither the node nor the launcher");
    }
    assertEquals(NodeContract.IMAGE_CONFIG_FILE, env.get("SLUICE_CONFIG"));
    assertEquals(NodeContract.IMAGE_DATA_DIR, env.get("SLUICE_DATA_DIR"));
    assertEquals("/opt/java", env.get("JAVA_HOME"));
    assertEquals("@/app/jib-classpath-file", env.get("SLUICE_CLASSPATH"));
    assertTrue(config.get("Volumes").has(NodeContract.IMAGE_DATA_DIR), "data directory is a volume");
    assertEquals("/health/ready", config.at("/Labels/io.sluice.health.ready").asText());
    assertTrue(NodeContract.healthPaths().contains(config.at("/Labels/io.sluice.health.live").asText()));
  }

  @Test
  void layers_launcherRuntimeAndUser_areInPlaceAndExecutable() throws IOException {
    Map<String, TarArchiveEntry> files = new TreeMap<>();
    Map<String, byte[]> contents = new HashMap<>();
    Set<String> wanted = Set.of("opt/sluice/bin/sluice", "etc/passwd", "opt/java/release", "app/jib-classpath-file");
    for (String layer : layers) {
      readLayer(layer, (entry, in) -> {
        String name = strip(entry.getName());
        files.put(name, entry);
        if (wanted.contains(name)) {
          contents.put(name, in.readAllBytes());
        }
      });
    }
    assertEquals(Files.readString(Repo.root().resolve("ops/sluice")),
        new String(contents.get("opt/sluice/bin/sluice"), StandardCharsets.UTF_8), "the image's launcher is ops/sluice");
    for (String exe : List.of("bin/sh", "opt/java/bin/java", "opt/sluice/bin/sluice", "lib64/ld-linux-x86-64.so.2")) {
      assertNotNull(files.get(exe), exe);
      assertEquals(0755, files.get(exe).getMode() & 0777, exe + " mode");
    }
    assertEquals(0775, files.get(NodeContract.IMAGE_DATA_DIR.substring(1)).getMode() & 0777, "data directory writable by group 0");
    String uid = config.get("User").asText().split(":")[0];
    assertTrue(new String(contents.get("etc/passwd"), StandardCharsets.UTF_8).contains(":x:" + uid + ":"), "user in /etc/passwd");
    assertTrue(new String(contents.get("opt/java/release"), StandardCharsets.UTF_8).contains("JAVA_VERSION="));
    String classpath = new String(contents.get("app/jib-classpath-file"), StandardCharsets.UTF_8).strip();
    for (String entry : classpath.split(":")) {
      assertTrue(files.containsKey(strip(entry)), "class path entry " + entry);
    }
  }

  /**
   * Unpacks the layers and starts the image's entrypoint as the image's user in a chroot with its
   * environment, a mounted sluice.conf and a private /proc: what a container runtime does, without
   * one. Needs root that may create namespaces (chroot, mount), so it is skipped elsewhere.
   */
  @Test
  void entrypoint_asImageUserWithMountedConfig_servesHealth() throws Exception {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "chroot needs root");
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")) && Files.isExecutable(Path.of("/usr/sbin/chroot")));
    // Root in an unprivileged container may not create namespaces: then there is nothing to run in.
    Process probe = new ProcessBuilder("/usr/bin/unshare", "--mount", "--pid", "--fork", "/bin/true")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Assumptions.assumeTrue(probe.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && probe.exitValue() == 0,
        "unshare --mount --pid is not permitted here");
    Path dir = Repo.scratch("image");
    Path rootfs = dir.resolve("rootfs");
    for (String layer : layers) {
      readLayer(layer, (entry, in) -> unpack(rootfs, entry, in));
    }
    Files.createDirectories(rootfs.resolve("proc"));
    int port = Repo.freePort();
    // The port only from the mounted file: a node on it proves SLUICE_CONFIG became --config.
    Files.writeString(rootfs.resolve(NodeContract.IMAGE_CONFIG_FILE.substring(1)), "sluice.http.port = " + port + "\n");

    Map<String, String> env = new HashMap<>(env());
    env.put("SLUICE_ADMIN_KEY", SluiceNode.ADMIN_KEY);
    env.put("SLUICE_HTTP_HOST", "127.0.0.1");
    String userspec = config.get("User").asText();
    List<String> entrypoint = new ArrayList<>();
    config.get("Entrypoint").forEach(e -> entrypoint.add("'" + e.asText() + "'"));
    String mount = Files.isExecutable(Path.of("/usr/bin/mount")) ? "/usr/bin/mount" : "/bin/mount";
    String inside = mount + " -t proc proc '" + rootfs.resolve("proc") + "' && exec /usr/sbin/chroot --userspec=" + userspec
        + " '" + rootfs + "' " + String.join(" ", entrypoint);
    List<String> command = List.of("/usr/bin/env", "-i", "/usr/bin/unshare", "--mount", "--pid", "--fork", "--kill-child",
        "/bin/sh", "-c", inside);
    List<String> withEnv = new ArrayList<>(command.subList(0, 2));
    env.forEach((k, v) -> withEnv.add(k + "=" + v));
    withEnv.addAll(command.subList(2, command.size()));
    try (ManagedProcess node = new ManagedProcess(withEnv, Map.of(), dir.resolve("node.log"))) {
      String url = "http://127.0.0.1:" + port;
      await("image's node ready on " + port).atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
          .until(() -> {
            if (!node.alive()) {
              throw new IllegalStateException("exited: " + MockUpstream.read(node.log));
            }
            return Api.status("GET", url + "/health/ready") == 200;
          });
      assertEquals(200, Api.status("GET", url + "/health/live"));
      ProcessHandle jvm = ProcessHandle.of(node.pid()).orElseThrow().descendants()
          .filter(p -> p.info().command().orElse("").endsWith("/opt/java/bin/java")).findFirst().orElseThrow();
      String uid = Files.readAllLines(Path.of("/proc", Long.toString(jvm.pid()), "status")).stream()
          .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[1];
      assertEquals(userspec.split(":")[0], uid, "the JVM runs as the image's user");
      String cmdline = Files.readString(Path.of("/proc", Long.toString(jvm.pid()), "cmdline")).replace('\0', ' ');
      assertTrue(cmdline.contains("-XX:+UseSerialGC") && cmdline.contains("--config " + NodeContract.IMAGE_CONFIG_FILE), cmdline);
      try (var data = Files.list(rootfs.resolve(NodeContract.IMAGE_DATA_DIR.substring(1)))) {
        assertTrue(data.findAny().isPresent(), "the node writes its data directory as the image's user");
      }
      jvm.destroy();
      assertTrue(node.awaitExit(Duration.ofSeconds(40)), "node stopped on SIGTERM");
    }
  }

  // ---- reading the OCI layout ----

  private static Map<String, String> env() {
    Map<String, String> env = new TreeMap<>();
    config.get("Env").forEach(e -> {
      String s = e.asText();
      env.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
    });
    return env;
  }

  private static String blob(String digest) {
    return "blobs/" + digest.replace(':', '/');
  }

  private static String strip(String name) {
    String n = name.startsWith("./") ? name.substring(2) : name;
    n = n.startsWith("/") ? n.substring(1) : n;
    return n.endsWith("/") ? n.substring(0, n.length() - 1) : n;
  }

  private static Map<String, byte[]> entries(Path tar, Set<String> names) throws IOException {
    Map<String, byte[]> out = new HashMap<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
      for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        if (names.contains(strip(e.getName()))) {
          out.put(strip(e.getName()), in.readAllBytes());
        }
      }
    }
    return out;
  }

  interface EntryReader {
    void read(TarArchiveEntry entry, InputStream in) throws IOException;
  }

  /** Reads one gzipped layer out of the image tar, entry by entry. */
  private static void readLayer(String layerBlob, EntryReader reader) throws IOException {
    try (TarArchiveInputStream outer = new TarArchiveInputStream(Files.newInputStream(TAR))) {
      for (TarArchiveEntry e = outer.getNextEntry(); e != null; e = outer.getNextEntry()) {
        if (strip(e.getName()).equals(layerBlob)) {
          TarArchiveInputStream layer = new TarArchiveInputStream(new GZIPInputStream(outer));
          for (TarArchiveEntry f = layer.getNextEntry(); f != null; f = layer.getNextEntry()) {
            reader.read(f, layer);
          }
          return;
        }
      }
    }
    throw new IllegalStateException(layerBlob + " not in " + TAR);
  }

  private static void unpack(Path rootfs, TarArchiveEntry entry, InputStream in) throws IOException {
    Path target = rootfs.resolve(strip(entry.getName())).normalize();
    if (!target.startsWith(rootfs)) {
      throw new IOException("entry outside the root: " + entry.getName());
    }
    if (entry.isDirectory()) {
      Files.createDirectories(target);
    } else if (entry.isSymbolicLink()) {
      Files.createDirectories(target.getParent());
      Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
      return;
    } else {
      Files.createDirectories(target.getParent());
      Files.copy(in, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(rwx(entry.getMode())));
  }

  private static String rwx(int mode) {
    StringBuilder s = new StringBuilder();
    String letters = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      s.append((mode & (1 << (8 - i))) != 0 ? letters.charAt(i) : '-');
    }
    return s.toString();
  }
}
