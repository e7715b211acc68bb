package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ops/k8s against the node's real contract ({@link NodeContract}): every manifest parses, every
 * environment variable a container sets is one the node or its launcher reads, the ports are the
 * config's, the probes are paths the node serves, the seed nodes are the StatefulSet's own stable
 * names, and the grace period covers the drain and settle of a clean shutdown. The StatefulSet is
 * checked as the base declares it and, where kubectl is installed, as `kubectl kustomize` renders
 * each region's overlay.
 */
class K8sManifestsIT {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path K8S = Repo.root().resolve("ops/k8s");
  private static final Pattern SEED = Pattern.compile("pekko://sluice@([a-z0-9-]+)-(\\d+)\\.([a-z0-9-]+):(\\d+)");
  private static final Pattern REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

  @Test
  void manifests_everyFile_parsesAsKubernetesObjects() {
    List<Path> files = yamlFiles();
    assertTrue(files.size() >= 9, "manifests under ops/k8s: " + files);
    for (Path file : files) {
      List<JsonNode> docs = parse(file);
      assertFalse(docs.isEmpty(), file + " is empty");
      for (JsonNode doc : docs) {
        assertTrue(doc.hasNonNull("apiVersion") && doc.hasNonNull("kind"), file + ": apiVersion and kind");
      }
    }
  }

  @Test
  void base_kustomization_listsEveryManifestOfTheBase() {
    JsonNode k = parse(K8S.resolve("base/kustomization.yaml")).get(0);
    Set<String> listed = new TreeSet<>();
    k.get("resources").forEach(r -> listed.add(r.asText()));
    Set<String> present = new TreeSet<>();
    for (Path p : yamlFiles()) {
      if (p.getParent().equals(K8S.resolve("base")) && !p.getFileName().toString().equals("kustomization.yaml")) {
        present.add(p.getFileName().toString());
      }
    }
    assertEquals(present, listed);
  }

  @Test
  void overlays_eachRegion_patchesOnlyKnownObjectsAndVariables() {
    Map<String, JsonNode> base = byKindAndName(baseObjects());
    List<Path> overlays = overlayDirs();
    assertTrue(overlays.size() >= 2, "an overlay per region: " + overlays);
    for (Path overlay : overlays) {
      JsonNode k = parse(overlay.resolve("kustomization.yaml")).get(0);
      assertTrue(k.path("namespace").asText().endsWith(overlay.getFileName().toString()), overlay + ": its own namespace");
      for (JsonNode r : k.get("resources")) {
        assertTrue(Files.exists(overlay.resolve(r.asText())), overlay + ": resource " + r.asText());
      }
      for (JsonNode patchRef : k.path("patches")) {
        for (JsonNode patch : parse(overlay.resolve(patchRef.get("path").asText()))) {
          String key = patch.get("kind").asText() + "/" + patch.at("/metadata/name").asText();
          JsonNode target = base.get(key);
          assertNotNull(target, overlay + " patches " + key + ", which the base does not have");
          for (JsonNode c : patch.at("/spec/template/spec/containers")) {
            assertTrue(containerNames(target).contains(c.get("name").asText()), overlay + ": container " + c.get("name"));
            for (JsonNode e : c.path("env")) {
              assertTrue(NodeContract.allVariables().contains(e.get("name").asText()),
                  overlay + " sets " + e.get("name").asText() + ", which neither the node nor the launcher reads");
            }
          }
        }
      }
    }
  }

  /** The base as written, and each overlay as kubectl renders it (when kubectl is installed). */
  static Stream<String> variants() {
    List<String> variants = new ArrayList<>(List.of("base"));
    if (kubectl() != null) {
      overlayDirs().forEach(o -> variants.add("overlays/" + o.getFileName()));
    }
    return variants.stream();
  }

  @ParameterizedTest
  @MethodSource("variants")
  void statefulSet_variant_matchesTheNodesContract(String variant) {
    List<JsonNode> objects = variant.equals("base") ? baseObjects() : render(K8S.resolve(variant));
    Map<String, JsonNode> all = byKindAndName(objects);
    JsonNode sts = single(objects, "StatefulSet");
    JsonNode pod = sts.at("/spec/template");
    JsonNode container = pod.at("/spec/containers/0");
    Map<String, String> podLabels = strings(pod.at("/metadata/labels"));

    // Ports: the config's HTTP and remoting ports, named for the probes and Services.
    Map<String, Integer> ports = new HashMap<>();
    container.get("ports").forEach(p -> ports.put(p.get("name").asText(), p.get("containerPort").asInt()));
    assertEquals(Map.of("http", NodeContract.httpPort(), "remoting", NodeContract.remotingPort()), ports);

    // Environment: only variables the node or its launcher reads; a helper variable (from the
    // downward API) is allowed only as a $(NAME) inside another variable's value.
    Map<String, JsonNode> env = new LinkedHashMap<>();
    container.get("env").forEach(e -> env.put(e.get("name").asText(), e));
    Set<String> referenced = new TreeSet<>();
    env.values().forEach(e -> {
      Matcher m = REF.matcher(e.path("value").asText());
      while (m.find()) {
        referenced.add(m.group(1));
        List<String> names = new ArrayList<>(env.keySet());
        assertTrue(names.indexOf(m.group(1)) >= 0 && names.indexOf(m.group(1)) < names.indexOf(e.get("name").asText()),
            m.group(1) + " must be defined before " + e.get("name").asText() + " to expand");
      }
    });
    for (String name : env.keySet()) {
      assertTrue(NodeContract.allVariables().contains(name)
              || (referenced.contains(name) && env.get(name).has("valueFrom")),
          name + " is not read by the node or the launcher: " + NodeContract.allVariables());
    }
    assertEquals(String.valueOf(ports.get("http")), env.get("SLUICE_HTTP_PORT").get("value").asText());
    assertEquals(String.valueOf(ports.get("remoting")), env.get("SLUICE_CLUSTER_PORT").get("value").asText());
    assertTrue(Repo.root().resolve("cluster-config/src/main/resources")
        .resolve(env.get("SLUICE_PROFILE").get("value").asText()).toFile().isFile(), "SLUICE_PROFILE names a shipped profile");

    // Seeds: the StatefulSet's own pods under its governing headless Service, on the remoting
    // port; the node's remoting host is spelled the same way, so the first seed knows itself.
    String headless = sts.at("/spec/serviceName").asText();
    JsonNode headlessSvc = all.get("Service/" + headless);
    assertNotNull(headlessSvc, "governing Service " + headless);
    assertEquals("None", headlessSvc.at("/spec/clusterIP").asText());
    assertTrue(headlessSvc.at("/spec/publishNotReadyAddresses").asBoolean(), "seeds resolve before they are ready");
    String[] seeds = env.get("SLUICE_SEED_NODES").get("value").asText().split(",");
    assertTrue(seeds.length >= 1);
    int replicas = sts.at("/spec/replicas").asInt();
    for (String seed : seeds) {
      Matcher m = SEED.matcher(seed.strip());
      assertTrue(m.matches(), "seed " + seed);
      assertEquals(sts.at("/metadata/name").asText(), m.group(1), seed);
      assertTrue(Integer.parseInt(m.group(2)) < replicas, seed + " is one of the " + replicas + " pods");
      assertEquals(headless, m.group(3), seed);
      assertEquals(ports.get("remoting"), Integer.parseInt(m.group(4)), seed);
    }
    assertTrue(seeds[0].contains("-0."), "the first seed is pod 0, which forms the cluster");
    assertEquals("$(POD_NAME)." + headless, env.get("SLUICE_CLUSTER_HOST").get("value").asText());
    assertEquals("metadata.name", env.get("POD_NAME").at("/valueFrom/fieldRef/fieldPath").asText());

    // Secrets: the admin key and the upstream key come from the Secret, which has those keys.
    for (String name : List.of("SLUICE_ADMIN_KEY", "OPENAI_API_KEY")) {
      JsonNode ref = env.get(name).at("/valueFrom/secretKeyRef");
      JsonNode secret = all.get("Secret/" + ref.get("name").asText());
      assertNotNull(secret, name + "'s Secret");
      assertTrue(secret.path("stringData").has(ref.get("key").asText()) || secret.path("data").has(ref.get("key").asText()),
          "Secret " + ref.get("name").asText() + " has " + ref.get("key").asText());
    }

    // Probes: paths the node serves, on its HTTP port.
    Set<String> served = NodeContract.healthPaths();
    assertEquals(Set.of("/health/live", "/health/ready"), served);
    assertEquals("/health/ready", container.at("/readinessProbe/httpGet/path").asText());
    assertEquals("/health/live", container.at("/livenessProbe/httpGet/path").asText());
    for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
      JsonNode get = container.at("/" + probe + "/httpGet");
      if (!get.isMissingNode()) {
        assertTrue(served.contains(get.get("path").asText()), probe + " path " + get.get("path"));
        assertEquals("http", get.get("port").asText(), probe + " port");
      }
    }

    // Shutdown: the grace period covers preStop plus the drain and settle of coordinated shutdown.
    long preStop = container.at("/lifecycle/preStop/sleep/seconds").asLong();
    assertTrue(preStop > 0, "preStop sleeps while endpoints are removed");
    long grace = pod.at("/spec/terminationGracePeriodSeconds").asLong();
    Duration needed = NodeContract.drainAndSettle().plusSeconds(preStop);
    assertTrue(grace > needed.toSeconds(), "terminationGracePeriodSeconds " + grace + " > " + needed.toSeconds());

    // Memory: the request holds at least the launcher's fixed heap, metaspace and code cache caps.
    long request = mebibytes(container.at("/resources/requests/memory").asText());
    long limit = mebibytes(container.at("/resources/limits/memory").asText());
    assertTrue(request >= 192 + 128 + 96, "memory request " + request + "Mi");
    assertTrue(limit >= request, "memory limit " + limit + "Mi >= request");

    // Config file: the ConfigMap is mounted where the image's launcher looks, and parses as HOCON.
    String configDir = NodeContract.IMAGE_CONFIG_FILE.substring(0, NodeContract.IMAGE_CONFIG_FILE.lastIndexOf('/'));
    String configFile = NodeContract.IMAGE_CONFIG_FILE.substring(configDir.length() + 1);
    String configVolume = null;
    String dataVolume = null;
    for (JsonNode m : container.get("volumeMounts")) {
      if (m.get("mountPath").asText().equals(configDir)) {
        configVolume = m.get("name").asText();
      }
      if (m.get("mountPath").asText().equals(NodeContract.IMAGE_DATA_DIR)) {
        dataVolume = m.get("name").asText();
      }
    }
    assertNotNull(configVolume, "a volume at " + configDir);
    assertNotNull(dataVolume, "a volume at " + NodeContract.IMAGE_DATA_DIR);
    String configMapName = null;
    for (JsonNode v : pod.at("/spec/volumes")) {
      if (v.get("name").asText().equals(configVolume)) {
        configMapName = v.at("/configMap/name").asText();
      }
    }
    JsonNode configMap = all.get("ConfigMap/" + configMapName);
    assertNotNull(configMap, "ConfigMap " + configMapName);
    String hocon = configMap.at("/data").get(configFile).asText();
    Path tmp = Repo.scratch("k8s-config").resolve(configFile);
    try {
      Files.writeString(tmp, hocon);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // Remoting binds every interface: binding to the canonical name would need the pod's own DNS
    // record, which the headless Service publishes only after the pod has started.
    assertEquals("0.0.0.0", NodeContract.parse(tmp).getString("pekko.remote.artery.bind.hostname"));

    // Services and the budget select the pods, and the client Service targets the HTTP port.
    for (JsonNode o : objects) {
      String kind = o.get("kind").asText();
      if (kind.equals("Service") || kind.equals("PodDisruptionBudget")) {
        JsonNode selector = kind.equals("Service") ? o.at("/spec/selector") : o.at("/spec/selector/matchLabels");
        strings(selector).forEach((k, v) -> assertEquals(v, podLabels.get(k), o.at("/metadata/name") + " selects pod label " + k));
      }
      if (kind.equals("Service")) {
        o.at("/spec/ports").forEach(p -> assertTrue(ports.containsKey(p.get("targetPort").asText()),
            o.at("/metadata/name") + " targets port " + p.get("targetPort")));
      }
    }
    assertEquals(1, objects.stream().filter(o -> o.get("kind").asText().equals("PodDisruptionBudget")).count());
  }

  // ---- reading the manifests ----

  private static List<Path> yamlFiles() {
    try (Stream<Path> walk = Files.walk(K8S)) {
      return walk.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Path> overlayDirs() {
    try (Stream<Path> dirs = Files.list(K8S.resolve("overlays"))) {
      return dirs.filter(Files::isDirectory).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<JsonNode> baseObjects() {
    List<JsonNode> objects = new ArrayList<>();
    for (JsonNode r : parse(K8S.resolve("base/kustomization.yaml")).get(0).get("resources")) {
      objects.addAll(parse(K8S.resolve("base").resolve(r.asText())));
    }
    return objects;
  }

  private static List<JsonNode> parse(Path file) {
    try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      List<JsonNode> out = new ArrayList<>();
      while (docs.hasNext()) {
        JsonNode doc = docs.next();
        if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
          out.add(doc);
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": " + e.getMessage(), e);
    }
  }

  private static List<JsonNode> render(Path overlay) {
    Path log = Repo.scratch("kustomize").resolve("out.yaml");
    try {
      Process p = new ProcessBuilder(kubectl(), "kustomize", overlay.toString())
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize " + overlay);
      assertEquals(0, p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
      return parse(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String kubectl() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path k = Path.of(dir, "kubectl");
      if (Files.isExecutable(k)) {
        return k.toString();
      }
    }
    return null;
  }

  private static Map<String, JsonNode> byKindAndName(List<JsonNode> objects) {
    Map<String, JsonNode> out = new HashMap<>();
    objects.forEach(o -> out.put(o.get("kind").asText() + "/" + o.at("/metadata/name").asText(), o));
    return out;
  }

  private static JsonNode single(List<JsonNode> objects, String kind) {
    List<JsonNode> found = objects.stream().filter(o -> o.get("kind").asText().equals(kind)).toList();
    assertEquals(1, found.size(), "one " + kind);
    return found.get(0);
  }

  private static Set<String> containerNames(JsonNode workload) {
    Set<String> names = new TreeSet<>();
    workload.at("/spec/template/spec/containers").forEach(c -> names.add(c.get("name").asText()));
    return names;
  }

  private static Map<String, String> strings(JsonNode object) {
    Map<String, String> out = new HashMap<>();
    object.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }

  private static long mebibytes(String quantity) {
    if (quantity.endsWith("Gi")) {
      return Long.parseLong(quantity.substring(0, quantity.length() - 2)) * 1024;
    }
    if (quantity.endsWith("Mi")) {
      return Long.parseLong(quantity.substring(0, quantity.length() - 2));
    }
    throw new IllegalArgumentException("memory quantity in Mi or Gi: " + quantity);
  }
}
