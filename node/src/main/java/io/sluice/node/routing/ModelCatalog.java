package io.sluice.node.routing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValueType;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models this gateway serves ({@code sluice.models}), each with its price and deployments,
 * read once at start. Model names are the names clients send; each deployment may call the model
 * something else upstream.
 *
 * <p>A model may name a routing {@code strategy} ({@code weighted}, the default, or {@code
 * latency}) and {@code fallbacks}: other served models tried, in order, when its own deployments
 * fail. Fallbacks are not followed transitively (a fallback's own fallbacks are not tried), so
 * there are no cycles; each must name another served model.
 */
public record ModelCatalog(Map<String, Model> models) {

  /**
   * A served model: its name, USD price per million input and output tokens, its deployments,
   * how requests are spread over them, and the models to fall back to.
   */
  public record Model(String name, BigDecimal inputPerMillion, BigDecimal outputPerMillion,
      List<Deployment> deployments, RoutingStrategy strategy, List<String> fallbacks) {

    public Model {
      deployments = List.copyOf(deployments);
      fallbacks = List.copyOf(fallbacks);
    }

    /** A model with the default strategy and no fallbacks. */
    public Model(String name, BigDecimal inputPerMillion, BigDecimal outputPerMillion, List<Deployment> deployments) {
      this(name, inputPerMillion, outputPerMillion, deployments, RoutingStrategy.WEIGHTED, List.of());
    }
  }

  public Model get(String name) {
    return models.get(name);
  }

  public static ModelCatalog from(Config config) {
    Config defaults = config.getConfig("sluice.upstream.defaults");
    ConfigObject root = config.getObject("sluice.models");
    Map<String, Model> models = new LinkedHashMap<>();
    for (String name : root.keySet()) {
      if (root.get(name).valueType() == ConfigValueType.NULL) {
        continue; // a config file drops a default model by setting it to null
      }
      Config m = root.toConfig().getConfig("\"" + name + "\"");
      List<Deployment> deployments = new ArrayList<>();
      for (Config d : m.getConfigList("deployments")) {
        deployments.add(deployment(name, d.withFallback(defaults), m));
      }
      if (deployments.isEmpty()) {
        throw new ConfigException.BadValue("sluice.models." + name, "a model needs at least one deployment");
      }
      BigDecimal in = m.hasPath("price.input-per-million") ? decimal(m, "price.input-per-million") : BigDecimal.ZERO;
      BigDecimal out = m.hasPath("price.output-per-million") ? decimal(m, "price.output-per-million") : BigDecimal.ZERO;
      RoutingStrategy strategy = RoutingStrategy.WEIGHTED;
      if (m.hasPath("strategy")) {
        try {
          strategy = RoutingStrategy.parse(m.getString("strategy"));
        } catch (IllegalArgumentException e) {
          throw new ConfigException.BadValue("sluice.models." + name + ".strategy",
              "must be weighted or latency, not '" + m.getString("strategy") + "'");
        }
      }
      List<String> fallbacks = m.hasPath("fallbacks") ? m.getStringList("fallbacks") : List.of();
      models.put(name, new Model(name, in, out, deployments, strategy, fallbacks));
    }
    for (Model model : models.values()) {
      checkFallbacks(model, models);
    }
    return new ModelCatalog(Collections.unmodifiableMap(models));
  }

  private static void checkFallbacks(Model model, Map<String, Model> models) {
    String path = "sluice.models." + model.name() + ".fallbacks";
    if (model.fallbacks().contains(model.name())) {
      throw new ConfigException.BadValue(path, "a model cannot fall back to itself");
    }
    if (model.fallbacks().stream().distinct().count() != model.fallbacks().size()) {
      throw new ConfigException.BadValue(path, "names a model twice");
    }
    for (String f : model.fallbacks()) {
      if (!models.containsKey(f)) {
        throw new ConfigException.BadValue(path, "names '" + f + "', which is not a served model");
      }
    }
  }

  /** The deployment keys every provider shares; every other key is an option of its provider's. */
  private static final java.util.Set<String> COMMON = java.util.Set.of("name", "provider", "base-url", "model",
      "api-key", "weight", "priority", "timeouts", "pool", "max-concurrent-requests", "shared");
  /** Model-level keys that are handed to each deployment as an option unless it sets its own. */
  private static final java.util.Set<String> INHERITED = java.util.Set.of("default-max-tokens");

  private static Deployment deployment(String model, Config d, Config m) {
    String apiKey = d.hasPath("api-key") ? d.getString("api-key") : null;
    String baseUrl;
    if (d.hasPath("base-url")) {
      baseUrl = d.getString("base-url");
    } else {
      try {
        baseUrl = switch (d.getString("provider")) {
          case "gemini" -> io.sluice.node.provider.gemini.GeminiAdapter.defaultBaseUrl(options(d, m));
          case "bedrock" -> io.sluice.node.provider.bedrock.BedrockAdapter.defaultBaseUrl(options(d, m));
          default -> d.getString("base-url");
        };
      } catch (IllegalArgumentException e) {
        throw new ConfigException.BadValue("sluice.models." + model + ".deployments.base-url", e.getMessage());
      }
    }
    while (baseUrl.endsWith("/")) {
      baseUrl = baseUrl.substring(0, baseUrl.length() - 1);
    }
    return new Deployment(
        d.hasPath("name") ? d.getString("name") : model,
        d.getString("provider"),
        baseUrl,
        d.hasPath("model") ? d.getString("model") : model,
        apiKey == null || apiKey.isBlank() ? null : apiKey,
        d.hasPath("weight") ? d.getInt("weight") : 1,
        d.hasPath("priority") ? d.getInt("priority") : 0,
        d.getDuration("timeouts.connect"),
        d.getDuration("timeouts.first-byte"),
        d.getDuration("timeouts.total"),
        d.getInt("pool.max-connections"),
        d.getInt("pool.max-open-requests"),
        maxConcurrentRequests(model, d),
        d.getDuration("timeouts.idle"),
        options(d, m),
        region(model, d),
        shared(model, d));
  }

  private static Map<String, String> options(Config d, Config m) {
    Map<String, String> options = new LinkedHashMap<>();
    for (String key : INHERITED) {
      if (m.hasPath(key)) {
        options.put(key, String.valueOf(m.getValue(key).unwrapped()));
      }
    }
    for (Map.Entry<String, com.typesafe.config.ConfigValue> e : d.root().entrySet()) {
      if (!COMMON.contains(e.getKey()) && e.getValue().valueType() != ConfigValueType.OBJECT
          && e.getValue().valueType() != ConfigValueType.LIST && e.getValue().valueType() != ConfigValueType.NULL) {
        options.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
      }
    }
    return options;
  }

  /** The deployment's Sluice region, or null; also kept as an option, Bedrock's AWS region by default. */
  private static String region(String model, Config d) {
    if (!d.hasPath("region")) {
      return null;
    }
    String r = d.getString("region").trim();
    if (r.isEmpty()) {
      throw new ConfigException.BadValue("sluice.models." + model + ".deployments.region", "must not be empty");
    }
    return r;
  }

  private static boolean shared(String model, Config d) {
    try {
      return d.hasPath("shared") && d.getBoolean("shared");
    } catch (ConfigException.WrongType e) {
      throw new ConfigException.BadValue("sluice.models." + model + ".deployments.shared", "must be true or false");
    }
  }

  private static int maxConcurrentRequests(String model, Config d) {
    int limit = d.hasPath("max-concurrent-requests") ? d.getInt("max-concurrent-requests") : Deployment.UNLIMITED;
    if (limit < 0) {
      throw new ConfigException.BadValue("sluice.models." + model + ".deployments.max-concurrent-requests",
          "must not be negative (0 means no limit)");
    }
    return limit;
  }

  private static BigDecimal decimal(Config c, String path) {
    return c.getValue(path).valueType() == ConfigValueType.STRING
        ? new BigDecimal(c.getString(path))
        : new BigDecimal(c.getNumber(path).toString());
  }
}
