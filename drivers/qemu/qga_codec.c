/* qga_codec.c — the guest agent protocol as data; see qga_codec.h. */
#include "drivers/qemu/qga_codec.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

JsonNode *qga_args_sync(int64_t id) {
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "id", id);
  JsonNode *n = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(n, o);
  return n;
}

ssize_t qga_after_sync_marker(const char *buf, size_t len) {
  for (size_t i = len; i > 0; i--)
    if ((unsigned char)buf[i - 1] == 0xFF)
      return (ssize_t)i;
  return -1;
}

int qga_reply_check_sync(JsonNode *value, int64_t id) {
  if (!value || !JSON_NODE_HOLDS_VALUE(value) || json_node_get_value_type(value) != G_TYPE_INT64)
    return -EPROTO;
  return json_node_get_int(value) == id ? 0 : -EPROTO;
}

void qga_ctl_clear(QgaCtl *ctl) {
  g_clear_pointer(&ctl->args, json_node_unref);
  g_clear_pointer(&ctl->await_password_for, g_free);
  ctl->command = NULL;
}

static JsonNode *object_node(JsonObject *o) {
  JsonNode *n = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(n, o);
  return n;
}

static bool user_name_ok(const char *user) {
  if (!*user || strlen(user) > 256)
    return false;
  for (const char *p = user; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == ':')
      return false;
  return true;
}

int qga_ctl_parse(const char *line, QgaCtl *ret_ctl, char **ret_error) {
  g_autofree char *copy = g_strstrip(g_strdup(line));
  char *rest = strchr(copy, ' ');
  if (rest)
    *rest++ = '\0';
  QgaCtl c = {0};
  const char *verb = copy;
  if (!rest && strcmp(verb, "fsfreeze") == 0) {
    c.command = QGA_CMD_FSFREEZE_FREEZE;
  } else if (!rest && strcmp(verb, "thaw") == 0) {
    c.command = QGA_CMD_FSFREEZE_THAW;
  } else if (!rest && (strcmp(verb, "shutdown") == 0 || strcmp(verb, "reboot") == 0)) {
    c.command = QGA_CMD_SHUTDOWN;
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "mode", strcmp(verb, "reboot") == 0 ? "reboot" : "powerdown");
    c.args = object_node(o);
  } else if (strcmp(verb, "set-password") == 0 && rest && !strchr(g_strstrip(rest), ' ') &&
             user_name_ok(rest)) {
    c.command = QGA_CMD_SET_USER_PASSWORD;
    c.await_password_for = g_strdup(rest);
  } else if (strcmp(verb, "ssh-key") == 0 && rest) {
    char *key = strchr(g_strstrip(rest), ' ');
    if (key)
      *key++ = '\0';
    if (!key || !user_name_ok(rest) || !*g_strstrip(key)) {
      *ret_error = g_strdup("ssh-key: give a user and a public key: ssh-key USER KEY");
      return -EINVAL;
    }
    c.command = QGA_CMD_SSH_ADD_AUTHORIZED_KEYS;
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "username", rest);
    JsonArray *keys = json_array_new();
    json_array_add_string_element(keys, key);
    json_object_set_array_member(o, "keys", keys);
    json_object_set_boolean_member(o, "reset", FALSE);
    c.args = object_node(o);
  } else {
    *ret_error = g_strdup_printf("guest/ctl: unknown verb '%s' (fsfreeze, thaw, shutdown, reboot, "
                                 "set-password USER, ssh-key USER KEY)", verb);
    return -EINVAL;
  }
  *ret_ctl = c;
  return 0;
}

JsonNode *qga_args_set_password(const char *user, const char *password) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "username", user);
  g_autofree char *b64 = g_base64_encode((const guchar *)password, strlen(password));
  json_object_set_string_member(o, "password", b64);
  json_object_set_boolean_member(o, "crypted", FALSE);
  return object_node(o);
}

static int bad_reply(const char *what, char **ret_error) {
  *ret_error = g_strdup_printf("the guest agent's reply to %s is not what the protocol says", what);
  return -EPROTO;
}

/* The array `value` when every element is an object, else NULL. */
static JsonArray *objects_of(JsonNode *value) {
  if (!value || !JSON_NODE_HOLDS_ARRAY(value))
    return NULL;
  JsonArray *a = json_node_get_array(value);
  for (guint i = 0; i < json_array_get_length(a); i++)
    if (!JSON_NODE_HOLDS_OBJECT(json_array_get_element(a, i)))
      return NULL;
  return a;
}

static const char *str_or(JsonObject *o, const char *member, const char *dflt) {
  JsonNode *n = o ? json_object_get_member(o, member) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return dflt;
  const char *s = json_node_get_string(n);
  return s && *s ? s : dflt;
}

/* Agent strings come from the guest: no control characters reach a file
 * whose lines a reader splits. */
static void append_clean(GString *out, const char *s) {
  for (const char *p = s; *p; p++)
    g_string_append_c(out, (unsigned char)*p < ' ' || *p == 0x7f ? '?' : *p);
}

static void append_word(GString *out, const char *s) {
  for (const char *p = s; *p; p++)
    g_string_append_c(out, (unsigned char)*p <= ' ' || *p == 0x7f ? '?' : *p);
}

int qga_render_addresses(JsonNode *value, GString *out, char **ret_error) {
  JsonArray *ifs = objects_of(value);
  if (!ifs)
    return bad_reply(QGA_CMD_NETWORK_GET_INTERFACES, ret_error);
  for (guint i = 0; i < json_array_get_length(ifs); i++) {
    JsonObject *iface = json_array_get_object_element(ifs, i);
    g_autoptr(GString) head = g_string_new(NULL);
    append_word(head, str_or(iface, "name", "?"));
    g_string_append_c(head, ' ');
    append_word(head, str_or(iface, "hardware-address", "-"));
    JsonNode *list = json_object_get_member(iface, "ip-addresses");
    JsonArray *addrs = list ? objects_of(list) : NULL;
    if (list && !addrs)
      return bad_reply(QGA_CMD_NETWORK_GET_INTERFACES, ret_error);
    guint n = addrs ? json_array_get_length(addrs) : 0;
    for (guint j = 0; j < n; j++) {
      JsonObject *a = json_array_get_object_element(addrs, j);
      g_string_append_printf(out, "%s ", head->str);
      append_word(out, str_or(a, "ip-address-type", "?"));
      g_string_append_c(out, ' ');
      append_word(out, str_or(a, "ip-address", "?"));
      g_string_append_printf(out, "/%" G_GINT64_FORMAT "\n",
                             json_object_get_int_member_with_default(a, "prefix", 0));
    }
    if (n == 0)
      g_string_append_printf(out, "%s - -\n", head->str);
  }
  return 0;
}

int qga_render_os(JsonNode *osinfo, JsonNode *hostname, GString *out, char **ret_error) {
  if (!osinfo || !JSON_NODE_HOLDS_OBJECT(osinfo))
    return bad_reply(QGA_CMD_GET_OSINFO, ret_error);
  JsonObject *o = json_node_get_object(osinfo);
  static const struct { const char *member, *key; } keys[] = {
    {"pretty-name", "pretty_name"}, {"name", "name"}, {"id", "id"},
    {"version", "version"}, {"version-id", "version_id"},
    {"kernel-release", "kernel_release"}, {"kernel-version", "kernel_version"},
    {"machine", "machine"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
    const char *v = str_or(o, keys[i].member, NULL);
    if (!v)
      continue;
    g_string_append_printf(out, "%s: ", keys[i].key);
    append_clean(out, v);
    g_string_append_c(out, '\n');
  }
  if (hostname && JSON_NODE_HOLDS_OBJECT(hostname)) {
    const char *h = str_or(json_node_get_object(hostname), "host-name", NULL);
    if (h) {
      g_string_append(out, "hostname: ");
      append_clean(out, h);
      g_string_append_c(out, '\n');
    }
  }
  return 0;
}

static void append_time(GString *out, gint64 usec) {
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(usec / G_USEC_PER_SEC);
  g_autofree char *s = t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
  g_string_append(out, s);
}

int qga_render_users(JsonNode *value, GString *out, char **ret_error) {
  JsonArray *users = objects_of(value);
  if (!users)
    return bad_reply(QGA_CMD_GET_USERS, ret_error);
  for (guint i = 0; i < json_array_get_length(users); i++) {
    JsonObject *u = json_array_get_object_element(users, i);
    append_word(out, str_or(u, "user", "?"));
    const char *domain = str_or(u, "domain", NULL);
    if (domain) {
      g_string_append_c(out, '@');
      append_word(out, domain);
    }
    g_string_append_c(out, ' ');
    double login = json_object_get_double_member_with_default(u, "login-time", 0);
    /* A time no clock gives (negative, NaN, after 9999) is "?": it would
     * not even convert to an integer. */
    if (login >= 0 && login < 253402300800.0)
      append_time(out, (gint64)(login * G_USEC_PER_SEC));
    else
      g_string_append_c(out, '?');
    g_string_append_c(out, '\n');
  }
  return 0;
}

static void append_size(GString *out, JsonObject *o, const char *member) {
  JsonNode *n = json_object_get_member(o, member);
  if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64)
    g_string_append_printf(out, " %" G_GUINT64_FORMAT, (guint64)json_node_get_int(n));
  else
    g_string_append(out, " -");
}

int qga_render_filesystems(JsonNode *value, GString *out, char **ret_error) {
  JsonArray *fss = objects_of(value);
  if (!fss)
    return bad_reply(QGA_CMD_GET_FSINFO, ret_error);
  for (guint i = 0; i < json_array_get_length(fss); i++) {
    JsonObject *f = json_array_get_object_element(fss, i);
    append_word(out, str_or(f, "mountpoint", "?"));
    g_string_append_c(out, ' ');
    append_word(out, str_or(f, "type", "?"));
    g_string_append_c(out, ' ');
    append_word(out, str_or(f, "name", "?"));
    append_size(out, f, "used-bytes");
    append_size(out, f, "total-bytes");
    g_string_append_c(out, '\n');
  }
  return 0;
}

int qga_render_time(JsonNode *value, GString *out, char **ret_error) {
  if (!value || !JSON_NODE_HOLDS_VALUE(value) || json_node_get_value_type(value) != G_TYPE_INT64)
    return bad_reply(QGA_CMD_GET_TIME, ret_error);
  gint64 ns = json_node_get_int(value);
  append_time(out, ns / 1000);
  g_string_append_printf(out, " %" G_GINT64_FORMAT "\n", ns);
  return 0;
}

int qga_render_state(JsonNode *info, JsonNode *freeze_status, GString *out, char **ret_error) {
  JsonObject *o = info && JSON_NODE_HOLDS_OBJECT(info) ? json_node_get_object(info) : NULL;
  JsonNode *v = o ? json_object_get_member(o, "version") : NULL;
  if (!v || !JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING)
    return bad_reply(QGA_CMD_INFO, ret_error);
  if (!freeze_status || !JSON_NODE_HOLDS_VALUE(freeze_status) ||
      json_node_get_value_type(freeze_status) != G_TYPE_STRING)
    return bad_reply(QGA_CMD_FSFREEZE_STATUS, ret_error);
  g_string_append(out, "connected: yes\nversion: ");
  append_clean(out, json_node_get_string(v));
  g_string_append(out, "\nfilesystems: ");
  append_clean(out, json_node_get_string(freeze_status));
  g_string_append_c(out, '\n');
  return 0;
}
