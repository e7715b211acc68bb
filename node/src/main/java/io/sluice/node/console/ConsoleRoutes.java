package io.sluice.node.console;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.redirect;
import static org.apache.pekko.http.javadsl.server.Directives.reject;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The operator console at {@code GET /ui/}: static files from the jar's {@code console/}
 * directory (plain HTML, ES modules and CSS; nothing is fetched from anywhere else). The console
 * talks only to the admin API with the admin key the operator types in, so it adds no way in:
 * these routes need no key because they serve nothing but the same public files to everyone.
 *
 * <p>Every answer carries a Content-Security-Policy that allows only this origin's scripts,
 * styles and API (no inline script, no framing, no other host), X-Frame-Options: DENY and
 * Referrer-Policy: no-referrer. {@code index.html} is always revalidated (so a new node version
 * is picked up at once); the other files may be cached for {@code max-age}. Each file has an
 * ETag, and a matching If-None-Match gets 304.
 */
public final class ConsoleRoutes {
  /** A console file name: no directories, so no path can leave {@code console/}. */
  private static final Pattern FILE = Pattern.compile("[a-z0-9][a-z0-9-]*\\.(?:html|js|css|svg)");
  static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  private static final Map<String, ContentType> TYPES = Map.of(
      "html", ContentTypes.parse("text/html; charset=utf-8"),
      "js", ContentTypes.parse("text/javascript; charset=utf-8"),
      "css", ContentTypes.parse("text/css; charset=utf-8"),
      "svg", ContentTypes.parse("image/svg+xml; charset=utf-8"));
  private static final List<HttpHeader> SECURITY = List.of(
      RawHeader.create("Content-Security-Policy", CSP),
      RawHeader.create("X-Frame-Options", "DENY"),
      RawHeader.create("Referrer-Policy", "no-referrer"),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Cross-Origin-Opener-Policy", "same-origin"));

  private final ConsoleSettings settings;
  private final ClassLoader loader;
  /** Files read once from the jar; absent files are remembered as empty. */
  private final Map<String, Optional<Asset>> assets = new ConcurrentHashMap<>();

  /** One file's bytes, type and ETag. */
  private record Asset(byte[] body, ContentType type, String etag) {}

  public ConsoleRoutes(ConsoleSettings settings) {
    this(settings, ConsoleRoutes.class.getClassLoader());
  }

  ConsoleRoutes(ConsoleSettings settings, ClassLoader loader) {
    this.settings = settings;
    this.loader = loader;
  }

  public Route route() {
    if (!settings.enabled()) {
      return reject();
    }
    return pathPrefix("ui", () -> get(() -> concat(
        pathEnd(() -> redirect(Uri.create("/ui/"), StatusCodes.PERMANENT_REDIRECT)),
        pathSingleSlash(() -> extractRequest(r -> serve(r, "index.html"))),
        path(segment(FILE), name -> extractRequest(r -> serve(r, name))))));
  }

  private Route serve(HttpRequest request, String name) {
    Optional<Asset> found = assets.computeIfAbsent(name, this::load);
    if (found.isEmpty()) {
      return reject();
    }
    Asset a = found.get();
    String cache = name.equals("index.html") ? "no-cache" : "public, max-age=" + settings.maxAge().toSeconds();
    List<HttpHeader> headers = new java.util.ArrayList<>(SECURITY);
    headers.add(RawHeader.create("Cache-Control", cache));
    headers.add(RawHeader.create("ETag", a.etag()));
    boolean fresh = request.getHeader("If-None-Match").map(HttpHeader::value)
        .map(v -> v.equals(a.etag()) || v.equals("*")).orElse(false);
    HttpResponse response = fresh
        ? HttpResponse.create().withStatus(StatusCodes.NOT_MODIFIED).addHeaders(headers)
        : HttpResponse.create().withEntity(HttpEntities.create(a.type(), a.body())).addHeaders(headers);
    return complete(response);
  }

  private Optional<Asset> load(String name) {
    try (InputStream in = loader.getResourceAsStream("console/" + name)) {
      if (in == null) {
        return Optional.empty();
      }
      byte[] body = in.readAllBytes();
      String ext = name.substring(name.lastIndexOf('.') + 1);
      String etag = "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body), 0, 8) + "\"";
      return Optional.of(new Asset(body, TYPES.get(ext), etag));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
