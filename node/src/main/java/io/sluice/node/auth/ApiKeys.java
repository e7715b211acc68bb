package io.sluice.node.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Tenant API keys: how they are made, hashed and routed.
 *
 * <p>A key is {@code sk-sluice.<tenant id>.<secret>}, where the secret is 256 random bits in
 * base64url. The tenant id in the key lets any node find the tenant's entity without scanning or a
 * global index; the secret makes the key unguessable. Only the SHA-256 hash of the whole key is
 * stored: keys are high-entropy, so a fast hash is safe and costs well under a microsecond.
 */
public final class ApiKeys {
  public static final String PREFIX = "sk-sluice.";
  /** Tenant ids: lowercase letters, digits, '-' and '_', starting with a letter or digit. */
  public static final Pattern TENANT_ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

  private static final int SECRET_BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(ApiKeys::sha256);

  private ApiKeys() {}

  /** A new key for {@code tenantId}. */
  public static String newKey(String tenantId) {
    byte[] secret = new byte[SECRET_BYTES];
    RANDOM.nextBytes(secret);
    return PREFIX + tenantId + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  /** Admin keys: {@code sk-sluice-admin.<secret>}; they never route to a tenant. */
  public static final String ADMIN_PREFIX = "sk-sluice-admin.";

  /** A new scoped admin key. */
  public static String newAdminKey() {
    byte[] secret = new byte[SECRET_BYTES];
    RANDOM.nextBytes(secret);
    return ADMIN_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  /** A new public admin key id. */
  public static String newAdminKeyId() {
    byte[] id = new byte[8];
    RANDOM.nextBytes(id);
    return "adm_" + HexFormat.of().formatHex(id);
  }

  /** A new public key id, the handle by which admins list and revoke a key. */
  public static String newKeyId() {
    byte[] id = new byte[8];
    RANDOM.nextBytes(id);
    return "key_" + HexFormat.of().formatHex(id);
  }

  /** Hex SHA-256 of the key: the only form in which a key is stored. */
  public static String hash(String key) {
    MessageDigest digest = SHA256.get();
    digest.reset();
    return HexFormat.of().formatHex(digest.digest(key.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * The tenant id a key routes to, or null if the key is not shaped like a Sluice key. It says
   * nothing about whether the key is valid: only the tenant's hash set does.
   */
  public static String tenantOf(String key) {
    if (key == null || !key.startsWith(PREFIX)) {
      return null;
    }
    int dot = key.indexOf('.', PREFIX.length());
    if (dot < 0 || dot == key.length() - 1) {
      return null;
    }
    String tenant = key.substring(PREFIX.length(), dot);
    return TENANT_ID.matcher(tenant).matches() ? tenant : null;
  }

  /** The bearer token of an Authorization header value, or null. */
  public static String bearer(String authorization) {
    if (authorization == null || authorization.length() < 8
        || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = authorization.substring(7).trim();
    return token.isEmpty() ? null : token;
  }

  /** Compares secrets in time independent of where they differ. */
  public static boolean constantTimeEquals(String a, String b) {
    if (a == null || b == null) {
      return false;
    }
    return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JDK", e);
    }
  }
}
