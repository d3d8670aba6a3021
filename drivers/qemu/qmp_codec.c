/* qmp_codec.c — QMP messages to and from text; see qmp_codec.h.
 *
 * Received lines go through a strict, iterative JSON validator before
 * json-glib parses them, for two reasons: json-glib 1.6 accepts things that
 * are not JSON (single quotes, comments, hex numbers, a second value after
 * the first, integers that silently wrap) and it recurses once per nesting
 * level, so a line of 16 MiB of '[' would overflow the stack. */
#include "drivers/qemu/qmp_codec.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

ENUM_TABLE_IMPL(qmp_event, QmpEvent,
                "SHUTDOWN", "POWERDOWN", "STOP", "RESUME", "RESET",
                "GUEST_PANICKED", "DEVICE_DELETED", "BALLOON_CHANGE",
                "SUSPEND", "WAKEUP")

static int fail(char **ret_error, int error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static int fail(char **ret_error, int error, const char *fmt, ...) {
  if (ret_error) {
    va_list ap;
    va_start(ap, fmt);
    *ret_error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
  }
  return error;
}

/* ---- strict JSON validation ---- */

typedef enum {
  JV_VALUE,          /* a value must follow */
  JV_VALUE_OR_CLOSE, /* just after '[': a value or ']' */
  JV_KEY,            /* after ',' in an object: a member name */
  JV_KEY_OR_CLOSE,   /* just after '{': a member name or '}' */
  JV_COLON,          /* after a member name */
  JV_AFTER,          /* after a value: ',', a closing bracket or the end */
} JsonValidatorState;

static size_t json_skip_blanks(const char *s, size_t i, size_t n) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    i++;
  return i;
}

static int json_bad(char **ret_error, size_t pos, const char *what) {
  return fail(ret_error, -EBADMSG, "invalid JSON at byte %zu: %s", pos, what);
}

/* s[*pos] is the opening quote. UTF-8 validity was checked by the caller. */
static int json_scan_string(const char *s, size_t n, size_t *pos, char **ret_error) {
  size_t i = *pos + 1;
  while (i < n) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"') {
      *pos = i + 1;
      return 0;
    }
    if (ch < 0x20)
      return json_bad(ret_error, i, "control character inside a string");
    if (ch != '\\') {
      i++;
      continue;
    }
    if (++i >= n)
      break;
    switch (s[i]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
      i++;
      break;
    case 'u': {
      unsigned v = 0;
      for (int k = 1; k <= 4; k++) {
        if (i + (size_t)k >= n || !g_ascii_isxdigit(s[i + (size_t)k]))
          return json_bad(ret_error, i, "\\u needs four hex digits");
        v = v * 16 + (unsigned)g_ascii_xdigit_value(s[i + (size_t)k]);
      }
      /* json-glib would cut the string there without a word. */
      if (v == 0)
        return json_bad(ret_error, i, "\\u0000 inside a string");
      i += 5;
      break;
    }
    default:
      return json_bad(ret_error, i, "unknown escape in a string");
    }
  }
  return json_bad(ret_error, *pos, "unterminated string");
}

/* A JSON number. Integers (no fraction, no exponent) must fit in
 * [INT64_MIN, UINT64_MAX]: json-glib would wrap anything beyond. */
static int json_scan_number(const char *s, size_t n, size_t *pos, char **ret_error) {
  size_t i = *pos;
  bool negative = s[i] == '-';
  if (negative)
    i++;
  size_t digits_start = i;
  if (i < n && s[i] == '0')
    i++;
  else if (i < n && s[i] >= '1' && s[i] <= '9')
    while (i < n && g_ascii_isdigit(s[i]))
      i++;
  else
    return json_bad(ret_error, i, "malformed number");
  size_t digits_end = i;
  bool integer = true;
  if (i < n && s[i] == '.') {
    integer = false;
    if (++i >= n || !g_ascii_isdigit(s[i]))
      return json_bad(ret_error, i, "malformed number");
    while (i < n && g_ascii_isdigit(s[i]))
      i++;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    integer = false;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    if (i >= n || !g_ascii_isdigit(s[i]))
      return json_bad(ret_error, i, "malformed number");
    while (i < n && g_ascii_isdigit(s[i]))
      i++;
  }
  if (integer) {
    const char *limit = negative ? "9223372036854775808" : "18446744073709551615";
    size_t limit_len = strlen(limit), len = digits_end - digits_start;
    if (len > limit_len ||
        (len == limit_len && memcmp(s + digits_start, limit, len) > 0))
      return json_bad(ret_error, *pos, "integer out of the 64-bit range");
  }
  *pos = i;
  return 0;
}

static int json_scan_scalar(const char *s, size_t n, size_t *pos, char **ret_error) {
  char ch = s[*pos];
  if (ch == '"')
    return json_scan_string(s, n, pos, ret_error);
  if (ch == '-' || g_ascii_isdigit(ch))
    return json_scan_number(s, n, pos, ret_error);
  static const char *const literals[] = {"true", "false", "null"};
  for (size_t k = 0; k < G_N_ELEMENTS(literals); k++) {
    size_t len = strlen(literals[k]);
    if (n - *pos >= len && memcmp(s + *pos, literals[k], len) == 0) {
      *pos += len;
      return 0;
    }
  }
  return json_bad(ret_error, *pos, "unexpected character");
}

/* 0 when s[0..n) is exactly one JSON value with optional blanks around it
 * and at most QMP_MAX_NESTING levels of arrays and objects. */
static int json_validate(const char *s, size_t n, char **ret_error) {
  char stack[QMP_MAX_NESTING];
  size_t depth = 0, i = 0;
  JsonValidatorState st = JV_VALUE;
  for (;;) {
    i = json_skip_blanks(s, i, n);
    if (i >= n) {
      if (st == JV_AFTER && depth == 0)
        return 0;
      return json_bad(ret_error, i, "unexpected end of line");
    }
    char ch = s[i];
    int r;
    switch (st) {
    case JV_VALUE:
    case JV_VALUE_OR_CLOSE:
      if (ch == ']' && st == JV_VALUE_OR_CLOSE) {
        depth--;
        i++;
        st = JV_AFTER;
      } else if (ch == '{' || ch == '[') {
        if (depth == QMP_MAX_NESTING)
          return fail(ret_error, -EBADMSG,
                      "invalid JSON at byte %zu: nested deeper than %d levels",
                      i, QMP_MAX_NESTING);
        stack[depth++] = ch;
        i++;
        st = ch == '{' ? JV_KEY_OR_CLOSE : JV_VALUE_OR_CLOSE;
      } else {
        if ((r = json_scan_scalar(s, n, &i, ret_error)) < 0)
          return r;
        st = JV_AFTER;
      }
      break;
    case JV_KEY:
    case JV_KEY_OR_CLOSE:
      if (ch == '}' && st == JV_KEY_OR_CLOSE) {
        depth--;
        i++;
        st = JV_AFTER;
        break;
      }
      if (ch != '"')
        return json_bad(ret_error, i, "expected a member name");
      if ((r = json_scan_string(s, n, &i, ret_error)) < 0)
        return r;
      st = JV_COLON;
      break;
    case JV_COLON:
      if (ch != ':')
        return json_bad(ret_error, i, "expected ':'");
      i++;
      st = JV_VALUE;
      break;
    case JV_AFTER:
      if (depth == 0)
        return json_bad(ret_error, i, "data after the end of the message");
      if (ch == ',') {
        i++;
        st = stack[depth - 1] == '{' ? JV_KEY : JV_VALUE;
      } else if (ch == (stack[depth - 1] == '{' ? '}' : ']')) {
        depth--;
        i++;
      } else {
        return json_bad(ret_error, i, "expected ',' or a closing bracket");
      }
      break;
    }
  }
}

/* ---- typed member access ---- */

static const char *json_kind_name(JsonNode *node) {
  if (!node || JSON_NODE_HOLDS_NULL(node))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT(node))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY(node))
    return "an array";
  GType t = json_node_get_value_type(node);
  if (t == G_TYPE_STRING)
    return "a string";
  if (t == G_TYPE_BOOLEAN)
    return "a boolean";
  if (t == G_TYPE_INT64)
    return "an integer";
  return "a number";
}

static bool node_is(JsonNode *node, GType type) {
  return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == type;
}

/* Getters of object members. `what` names the object in sentences. An
 * absent optional member leaves *ret untouched and returns 0; a member of
 * the wrong type is -EPROTO either way. */
static int member_string(JsonObject *o, const char *what, const char *name,
                         bool required, const char **ret, char **ret_error) {
  JsonNode *m = json_object_get_member(o, name);
  if (!m) {
    if (!required)
      return 0;
    return fail(ret_error, -EPROTO, "%s has no member '%s'", what, name);
  }
  if (!node_is(m, G_TYPE_STRING))
    return fail(ret_error, -EPROTO, "member '%s' of %s is %s, not a string",
                name, what, json_kind_name(m));
  *ret = json_node_get_string(m);
  return 0;
}

static int member_int(JsonObject *o, const char *what, const char *name,
                      bool required, int64_t *ret, char **ret_error) {
  JsonNode *m = json_object_get_member(o, name);
  if (!m) {
    if (!required)
      return 0;
    return fail(ret_error, -EPROTO, "%s has no member '%s'", what, name);
  }
  if (!node_is(m, G_TYPE_INT64))
    return fail(ret_error, -EPROTO, "member '%s' of %s is %s, not an integer",
                name, what, json_kind_name(m));
  *ret = json_node_get_int(m);
  return 0;
}

/* QAPI uint64: json-glib keeps the two's complement in an int64. */
static int member_uint(JsonObject *o, const char *what, const char *name,
                       bool required, uint64_t *ret, char **ret_error) {
  int64_t v = 0;
  JsonNode *m = json_object_get_member(o, name);
  int r = member_int(o, what, name, required, &v, ret_error);
  if (r < 0)
    return r;
  if (m)
    *ret = (uint64_t)v;
  return 0;
}

static int member_bool(JsonObject *o, const char *what, const char *name,
                       bool required, bool *ret, char **ret_error) {
  JsonNode *m = json_object_get_member(o, name);
  if (!m) {
    if (!required)
      return 0;
    return fail(ret_error, -EPROTO, "%s has no member '%s'", what, name);
  }
  if (!node_is(m, G_TYPE_BOOLEAN))
    return fail(ret_error, -EPROTO, "member '%s' of %s is %s, not a boolean",
                name, what, json_kind_name(m));
  *ret = json_node_get_boolean(m);
  return 0;
}

static int member_object(JsonObject *o, const char *what, const char *name,
                         bool required, JsonObject **ret, char **ret_error) {
  JsonNode *m = json_object_get_member(o, name);
  if (!m) {
    if (!required)
      return 0;
    return fail(ret_error, -EPROTO, "%s has no member '%s'", what, name);
  }
  if (!JSON_NODE_HOLDS_OBJECT(m))
    return fail(ret_error, -EPROTO, "member '%s' of %s is %s, not an object",
                name, what, json_kind_name(m));
  *ret = json_node_get_object(m);
  return 0;
}

static int value_object(JsonNode *value, const char *what, JsonObject **ret,
                        char **ret_error) {
  if (!value || !JSON_NODE_HOLDS_OBJECT(value))
    return fail(ret_error, -EPROTO, "%s is %s, not an object", what, json_kind_name(value));
  *ret = json_node_get_object(value);
  return 0;
}

static int value_array(JsonNode *value, const char *what, JsonArray **ret,
                       char **ret_error) {
  if (!value || !JSON_NODE_HOLDS_ARRAY(value))
    return fail(ret_error, -EPROTO, "%s is %s, not an array", what, json_kind_name(value));
  *ret = json_node_get_array(value);
  return 0;
}

static JsonNode *node_take_object(JsonObject *o) {
  JsonNode *n = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(n, o);
  return n;
}

/* ---- building ---- */

int qmp_command_build(const char *execute, JsonNode *arguments, const char *id,
                      char **ret_text) {
  if (!execute || !*execute)
    return -EINVAL;
  if (arguments && !JSON_NODE_HOLDS_OBJECT(arguments))
    return -EINVAL;
  /* json-glib writes members in insertion order: execute, arguments, id. */
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "execute", execute);
  if (arguments)
    json_object_set_member(o, "arguments", json_node_copy(arguments));
  if (id)
    json_object_set_string_member(o, "id", id);
  g_autoptr(JsonNode) root = node_take_object(o);
  g_autofree char *text = json_to_string(root, FALSE);
  *ret_text = g_strconcat(text, "\r\n", NULL);
  return 0;
}

/* ---- parsing ---- */

void qmp_message_free(QmpMessage *m) {
  if (!m)
    return;
  g_free(m->id);
  if (m->value)
    json_node_unref(m->value);
  g_free(m->error_class);
  g_free(m->error_desc);
  g_free(m->event_name);
  g_free(m->package);
  g_free(m);
}

JsonNode *qmp_message_steal_value(QmpMessage *m) {
  return g_steal_pointer(&m->value);
}

/* A copy of `member` that no one else references (json_node_copy gives a
 * node without parent that shares only the refcounted payload), so the
 * message can hand it to another thread. */
static JsonNode *detach(JsonNode *member) {
  return json_node_copy(member);
}

static int parse_id(JsonObject *o, QmpMessage *m) {
  JsonNode *id = json_object_get_member(o, "id");
  if (!id)
    return 0;
  if (node_is(id, G_TYPE_STRING))
    m->id = g_strdup(json_node_get_string(id));
  else
    m->id = json_to_string(id, FALSE);
  return 0;
}

static int parse_greeting(JsonObject *o, QmpMessage *m, char **ret_error) {
  JsonObject *qmp = NULL, *version = NULL, *qemu = NULL;
  int64_t major = 0, minor = 0, micro = 0;
  const char *package = "";
  int r;
  if ((r = member_object(o, "the greeting", "QMP", true, &qmp, ret_error)) < 0 ||
      (r = member_object(qmp, "the greeting", "version", true, &version, ret_error)) < 0 ||
      (r = member_object(version, "the greeting's version", "qemu", true, &qemu, ret_error)) < 0 ||
      (r = member_int(qemu, "the greeting's version", "major", true, &major, ret_error)) < 0 ||
      (r = member_int(qemu, "the greeting's version", "minor", true, &minor, ret_error)) < 0 ||
      (r = member_int(qemu, "the greeting's version", "micro", true, &micro, ret_error)) < 0 ||
      (r = member_string(version, "the greeting's version", "package", false, &package, ret_error)) < 0)
    return r;
  if (major < 0 || major > INT_MAX || minor < 0 || minor > INT_MAX || micro < 0 || micro > INT_MAX)
    return fail(ret_error, -EPROTO, "the greeting's version is out of range");
  JsonNode *caps = json_object_get_member(qmp, "capabilities");
  if (caps) {
    JsonArray *a = NULL;
    if ((r = value_array(caps, "the greeting's capabilities", &a, ret_error)) < 0)
      return r;
    for (guint i = 0; i < json_array_get_length(a); i++) {
      JsonNode *c = json_array_get_element(a, i);
      if (!node_is(c, G_TYPE_STRING))
        return fail(ret_error, -EPROTO, "a greeting capability is %s, not a string",
                    json_kind_name(c));
      if (strcmp(json_node_get_string(c), "oob") == 0)
        m->cap_oob = true;
    }
  }
  m->kind = QMP_MESSAGE_GREETING;
  m->version = (QmpVersion){(int)major, (int)minor, (int)micro};
  m->package = g_strdup(package);
  return 0;
}

static int parse_error(JsonObject *o, QmpMessage *m, char **ret_error) {
  JsonObject *e = NULL;
  const char *cls = NULL, *desc = NULL;
  int r;
  if ((r = member_object(o, "the error reply", "error", true, &e, ret_error)) < 0 ||
      (r = member_string(e, "the error", "class", true, &cls, ret_error)) < 0 ||
      (r = member_string(e, "the error", "desc", true, &desc, ret_error)) < 0)
    return r;
  m->kind = QMP_MESSAGE_ERROR;
  m->error_class = g_strdup(cls);
  m->error_desc = g_strdup(desc);
  return parse_id(o, m);
}

static int parse_event(JsonObject *o, QmpMessage *m, char **ret_error) {
  const char *name = NULL;
  JsonObject *ts = NULL;
  int64_t sec = -1, usec = -1;
  int r;
  if ((r = member_string(o, "the event", "event", true, &name, ret_error)) < 0 ||
      (r = member_object(o, "the event", "timestamp", false, &ts, ret_error)) < 0)
    return r;
  if (ts && ((r = member_int(ts, "the event's timestamp", "seconds", true, &sec, ret_error)) < 0 ||
             (r = member_int(ts, "the event's timestamp", "microseconds", true, &usec, ret_error)) < 0))
    return r;
  JsonNode *data = json_object_get_member(o, "data");
  if (data && !JSON_NODE_HOLDS_OBJECT(data))
    return fail(ret_error, -EPROTO, "the data of event %s is %s, not an object",
                name, json_kind_name(data));
  m->kind = QMP_MESSAGE_EVENT;
  m->event_name = g_strdup(name);
  if (qmp_event_from_string(name, &m->event) < 0)
    m->event = QMP_EVENT_UNKNOWN;
  m->timestamp_seconds = sec;
  m->timestamp_microseconds = usec;
  m->value = data ? detach(data) : NULL;
  return 0;
}

int qmp_message_parse(const char *line, size_t len, QmpMessage **ret_message,
                      char **ret_error) {
  if (!line)
    return fail(ret_error, -EINVAL, "no line");
  if (len > QMP_LINE_MAX)
    return fail(ret_error, -EMSGSIZE, "a QMP line of %zu bytes exceeds the limit of %d bytes",
                len, QMP_LINE_MAX);
  if (len > 0 && line[len - 1] == '\n')
    len--;
  if (len > 0 && line[len - 1] == '\r')
    len--;
  if (!g_utf8_validate_len(line, len, NULL))
    return fail(ret_error, -EBADMSG, "the line is not UTF-8 text or contains a NUL byte");
  int r = json_validate(line, len, ret_error);
  if (r < 0)
    return r;

  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) err = NULL;
  if (!json_parser_load_from_data(parser, line, (gssize)len, &err))
    return fail(ret_error, -EBADMSG, "invalid JSON: %s", err->message);
  g_autoptr(JsonNode) root = json_parser_steal_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return fail(ret_error, -EPROTO, "a QMP message is a JSON object, not %s",
                json_kind_name(root));
  JsonObject *o = json_node_get_object(root);

  g_autoptr(QmpMessage) m = g_new0(QmpMessage, 1);
  if (json_object_has_member(o, "QMP"))
    r = parse_greeting(o, m, ret_error);
  else if (json_object_has_member(o, "event"))
    r = parse_event(o, m, ret_error);
  else if (json_object_has_member(o, "return")) {
    m->kind = QMP_MESSAGE_RETURN;
    m->value = detach(json_object_get_member(o, "return"));
    r = parse_id(o, m);
  } else if (json_object_has_member(o, "error"))
    r = parse_error(o, m, ret_error);
  else
    r = fail(ret_error, -EPROTO,
             "the JSON object has none of the QMP members QMP, return, error, event");
  if (r < 0)
    return r;
  *ret_message = g_steal_pointer(&m);
  return 0;
}

/* ---- errors ---- */

int qmp_error_class_to_errno(const char *error_class) {
  static const struct {
    const char *name;
    int error;
  } table[] = {
    {"GenericError", -EIO},
    {"CommandNotFound", -EOPNOTSUPP},
    {"DeviceNotActive", -ENODEV},
    {"DeviceNotFound", -ENODEV},
    {"KVMMissingCap", -EOPNOTSUPP},
  };
  for (size_t i = 0; error_class && i < G_N_ELEMENTS(table); i++)
    if (strcmp(error_class, table[i].name) == 0)
      return table[i].error;
  return -EIO;
}

char *qmp_error_sentence(const char *command, const char *error_class,
                         const char *error_desc) {
  return g_strdup_printf("QEMU refused '%s': %s (%s)", command ? command : "?",
                         error_desc && *error_desc ? error_desc : "no description",
                         error_class ? error_class : "no error class");
}

/* ---- arguments ---- */

int qmp_args_balloon(uint64_t bytes, JsonNode **ret_args) {
  if (bytes == 0)
    return -EINVAL;
  if (bytes > INT64_MAX)
    return -ERANGE;
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "value", (int64_t)bytes);
  *ret_args = node_take_object(o);
  return 0;
}

static int args_one_string(const char *name, const char *value, JsonNode **ret_args) {
  if (!value || !*value)
    return -EINVAL;
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, name, value);
  *ret_args = node_take_object(o);
  return 0;
}

int qmp_args_human_monitor_command(const char *command_line, JsonNode **ret_args) {
  return args_one_string("command-line", command_line, ret_args);
}

int qmp_args_device_del(const char *id, JsonNode **ret_args) {
  return args_one_string("id", id, ret_args);
}

int qmp_args_snapshot_job(const char *job_id, const char *tag, const char *vmstate,
                          const char *const *devices, JsonNode **ret_args) {
  if (!job_id || !*job_id || !tag || !*tag || !devices || !devices[0])
    return -EINVAL;
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "job-id", job_id);
  json_object_set_string_member(o, "tag", tag);
  if (vmstate)
    json_object_set_string_member(o, "vmstate", vmstate);
  JsonArray *a = json_array_new();
  for (size_t i = 0; devices[i]; i++)
    json_array_add_string_element(a, devices[i]);
  json_object_set_array_member(o, "devices", a);
  JsonNode *n = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(n, o);
  *ret_args = n;
  return 0;
}

int qmp_args_job_id(const char *id, JsonNode **ret_args) {
  return args_one_string("id", id, ret_args);
}

int qmp_args_migrate(const char *uri, JsonNode **ret_args) {
  return args_one_string("uri", uri, ret_args);
}

void qmp_progress_clear(QmpProgress *p) {
  g_clear_pointer(&p->status, g_free);
  g_clear_pointer(&p->error, g_free);
  p->done = p->total = 0;
}

int qmp_reply_parse_job(JsonNode *value, const char *id, QmpProgress *ret_job) {
  JsonArray *a = NULL;
  if (value_array(value, "the query-jobs reply", &a, NULL) < 0)
    return -EPROTO;
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonNode *e = json_array_get_element(a, i);
    JsonObject *o = NULL;
    const char *jid = NULL, *status = NULL, *error = NULL;
    if (value_object(e, "a query-jobs entry", &o, NULL) < 0 ||
        member_string(o, "query-jobs", "id", true, &jid, NULL) < 0)
      return -EPROTO;
    if (strcmp(jid, id) != 0)
      continue;
    QmpProgress p = {0};
    if (member_string(o, "query-jobs", "status", true, &status, NULL) < 0 ||
        member_string(o, "query-jobs", "error", false, &error, NULL) < 0 ||
        member_uint(o, "query-jobs", "current-progress", false, &p.done, NULL) < 0 ||
        member_uint(o, "query-jobs", "total-progress", false, &p.total, NULL) < 0)
      return -EPROTO;
    p.status = g_strdup(status);
    p.error = g_strdup(error);
    *ret_job = p;
    return 0;
  }
  return -ENOENT;
}

int qmp_reply_parse_migrate(JsonNode *value, QmpProgress *ret_progress) {
  JsonObject *o = NULL, *ram = NULL;
  const char *status = NULL, *error = NULL;
  QmpProgress p = {0};
  if (value_object(value, "the query-migrate reply", &o, NULL) < 0 ||
      member_string(o, "query-migrate", "status", false, &status, NULL) < 0 ||
      member_string(o, "query-migrate", "error-desc", false, &error, NULL) < 0 ||
      member_object(o, "query-migrate", "ram", false, &ram, NULL) < 0)
    return -EPROTO;
  if (ram && (member_uint(ram, "query-migrate ram", "transferred", false, &p.done, NULL) < 0 ||
              member_uint(ram, "query-migrate ram", "total", false, &p.total, NULL) < 0))
    return -EPROTO;
  p.status = g_strdup(status ? status : "none");
  p.error = g_strdup(error);
  *ret_progress = p;
  return 0;
}

void qmp_hotpluggable_cpu_free(QmpHotpluggableCpu *cpu) {
  if (!cpu)
    return;
  g_free(cpu->type);
  g_free(cpu->qom_path);
  g_free(cpu);
}

int qmp_args_device_add_cpu(const QmpHotpluggableCpu *slot, const char *id,
                            JsonNode **ret_args) {
  if (!slot || !slot->type || !*slot->type || !id || !*id || slot->qom_path)
    return -EINVAL;
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "driver", slot->type);
  json_object_set_string_member(o, "id", id);
  const struct {
    const char *name;
    int64_t value;
  } props[] = {
    {"node-id", slot->node_id},       {"socket-id", slot->socket_id},
    {"die-id", slot->die_id},         {"cluster-id", slot->cluster_id},
    {"core-id", slot->core_id},       {"thread-id", slot->thread_id},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(props); i++)
    if (props[i].value >= 0)
      json_object_set_int_member(o, props[i].name, props[i].value);
  *ret_args = node_take_object(o);
  return 0;
}

/* ---- replies ---- */

int qmp_reply_parse_status(JsonNode *value, bool *ret_running, char **ret_status) {
  JsonObject *o = NULL;
  const char *status = NULL;
  bool running = false;
  if (value_object(value, "the query-status reply", &o, NULL) < 0 ||
      member_bool(o, "query-status", "running", true, &running, NULL) < 0 ||
      member_string(o, "query-status", "status", true, &status, NULL) < 0)
    return -EPROTO;
  *ret_running = running;
  *ret_status = g_strdup(status);
  return 0;
}

int qmp_reply_parse_cpus_fast(JsonNode *value, guint *ret_count, GArray **ret_thread_ids) {
  JsonArray *a = NULL;
  if (value_array(value, "the query-cpus-fast reply", &a, NULL) < 0)
    return -EPROTO;
  guint n = json_array_get_length(a);
  g_autoptr(GArray) tids = g_array_sized_new(FALSE, FALSE, sizeof(int64_t), n);
  for (guint i = 0; i < n; i++) {
    JsonObject *cpu = NULL;
    int64_t tid = -1;
    if (value_object(json_array_get_element(a, i), "a CPU", &cpu, NULL) < 0 ||
        member_int(cpu, "a CPU", "thread-id", true, &tid, NULL) < 0)
      return -EPROTO;
    g_array_append_val(tids, tid);
  }
  *ret_count = n;
  if (ret_thread_ids)
    *ret_thread_ids = g_steal_pointer(&tids);
  return 0;
}

int qmp_reply_parse_hotpluggable_cpus(JsonNode *value, GPtrArray **ret_cpus) {
  JsonArray *a = NULL;
  if (value_array(value, "the query-hotpluggable-cpus reply", &a, NULL) < 0)
    return -EPROTO;
  g_autoptr(GPtrArray) cpus = g_ptr_array_new_with_free_func((GDestroyNotify)qmp_hotpluggable_cpu_free);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject *o = NULL, *props = NULL;
    const char *type = NULL, *qom_path = NULL;
    g_autoptr(QmpHotpluggableCpu) cpu = g_new0(QmpHotpluggableCpu, 1);
    cpu->node_id = cpu->socket_id = cpu->die_id = cpu->cluster_id = -1;
    cpu->core_id = cpu->thread_id = -1;
    if (value_object(json_array_get_element(a, i), "a CPU slot", &o, NULL) < 0 ||
        member_string(o, "a CPU slot", "type", true, &type, NULL) < 0 ||
        member_int(o, "a CPU slot", "vcpus-count", true, &cpu->vcpus_count, NULL) < 0 ||
        member_string(o, "a CPU slot", "qom-path", false, &qom_path, NULL) < 0 ||
        member_object(o, "a CPU slot", "props", true, &props, NULL) < 0 ||
        member_int(props, "props", "node-id", false, &cpu->node_id, NULL) < 0 ||
        member_int(props, "props", "socket-id", false, &cpu->socket_id, NULL) < 0 ||
        member_int(props, "props", "die-id", false, &cpu->die_id, NULL) < 0 ||
        member_int(props, "props", "cluster-id", false, &cpu->cluster_id, NULL) < 0 ||
        member_int(props, "props", "core-id", false, &cpu->core_id, NULL) < 0 ||
        member_int(props, "props", "thread-id", false, &cpu->thread_id, NULL) < 0)
      return -EPROTO;
    cpu->type = g_strdup(type);
    cpu->qom_path = g_strdup(qom_path);
    g_ptr_array_add(cpus, g_steal_pointer(&cpu));
  }
  *ret_cpus = g_steal_pointer(&cpus);
  return 0;
}

int qmp_reply_parse_balloon(JsonNode *value, uint64_t *ret_actual_bytes) {
  JsonObject *o = NULL;
  uint64_t actual = 0;
  if (value_object(value, "the query-balloon reply", &o, NULL) < 0 ||
      member_uint(o, "query-balloon", "actual", true, &actual, NULL) < 0)
    return -EPROTO;
  *ret_actual_bytes = actual;
  return 0;
}

int qmp_args_screendump(const char *filename, const char *format, JsonNode **ret_args) {
  if (!filename || !*filename || !format || !*format)
    return -EINVAL;
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "filename", filename);
  json_object_set_string_member(o, "format", format);
  *ret_args = node_take_object(o);
  return 0;
}

int qmp_reply_parse_vnc(JsonNode *value, char **ret_address) {
  JsonObject *o = NULL;
  bool enabled = false;
  const char *host = NULL, *service = NULL;
  if (value_object(value, "the query-vnc reply", &o, NULL) < 0 ||
      member_bool(o, "query-vnc", "enabled", true, &enabled, NULL) < 0 ||
      member_string(o, "query-vnc", "host", false, &host, NULL) < 0 ||
      member_string(o, "query-vnc", "service", false, &service, NULL) < 0)
    return -EPROTO;
  if (!enabled) {
    *ret_address = NULL;
    return 0;
  }
  if (!host || !service)
    return -EPROTO;
  bool v6 = strchr(host, ':') != NULL;
  *ret_address = g_strdup_printf("vnc://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", service);
  return 0;
}

void qmp_block_stats_free(QmpBlockStats *s) {
  if (!s)
    return;
  g_free(s->device);
  g_free(s->node_name);
  g_free(s->qdev);
  g_free(s);
}

int qmp_reply_parse_blockstats(JsonNode *value, GPtrArray **ret_stats) {
  JsonArray *a = NULL;
  if (value_array(value, "the query-blockstats reply", &a, NULL) < 0)
    return -EPROTO;
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)qmp_block_stats_free);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject *o = NULL, *st = NULL;
    const char *device = NULL, *node = NULL, *qdev = NULL;
    g_autoptr(QmpBlockStats) s = g_new0(QmpBlockStats, 1);
    if (value_object(json_array_get_element(a, i), "a block device", &o, NULL) < 0 ||
        member_string(o, "a block device", "device", false, &device, NULL) < 0 ||
        member_string(o, "a block device", "node-name", false, &node, NULL) < 0 ||
        member_string(o, "a block device", "qdev", false, &qdev, NULL) < 0 ||
        member_object(o, "a block device", "stats", true, &st, NULL) < 0 ||
        member_uint(st, "stats", "rd_bytes", true, &s->rd_bytes, NULL) < 0 ||
        member_uint(st, "stats", "wr_bytes", true, &s->wr_bytes, NULL) < 0 ||
        member_uint(st, "stats", "rd_operations", true, &s->rd_operations, NULL) < 0 ||
        member_uint(st, "stats", "wr_operations", true, &s->wr_operations, NULL) < 0 ||
        member_uint(st, "stats", "flush_operations", false, &s->flush_operations, NULL) < 0)
      return -EPROTO;
    /* QEMU reports "" as the device of -blockdev backends. */
    s->device = device && *device ? g_strdup(device) : NULL;
    s->node_name = node && *node ? g_strdup(node) : NULL;
    s->qdev = qdev && *qdev ? g_strdup(qdev) : NULL;
    g_ptr_array_add(all, g_steal_pointer(&s));
  }
  *ret_stats = g_steal_pointer(&all);
  return 0;
}

char *qmp_qdev_id(const char *qdev) {
  static const char peripheral[] = "/machine/peripheral/";
  if (!qdev || !*qdev)
    return NULL;
  if (qdev[0] != '/')
    return g_strdup(qdev);
  if (!g_str_has_prefix(qdev, peripheral))
    return NULL;
  const char *id = qdev + strlen(peripheral);
  size_t len = strcspn(id, "/");
  return len ? g_strndup(id, len) : NULL;
}

int qmp_reply_parse_chardev_ptys(JsonNode *value, GHashTable **ret_ptys) {
  JsonArray *a = NULL;
  if (value_array(value, "the query-chardev reply", &a, NULL) < 0)
    return -EPROTO;
  g_autoptr(GHashTable) ptys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject *o = NULL;
    const char *label = NULL, *filename = NULL;
    if (value_object(json_array_get_element(a, i), "a chardev", &o, NULL) < 0 ||
        member_string(o, "a chardev", "label", true, &label, NULL) < 0 ||
        member_string(o, "a chardev", "filename", true, &filename, NULL) < 0)
      return -EPROTO;
    if (g_str_has_prefix(filename, "pty:") && filename[4])
      g_hash_table_insert(ptys, g_strdup(label), g_strdup(filename + 4));
  }
  *ret_ptys = g_steal_pointer(&ptys);
  return 0;
}

int qmp_reply_parse_string(JsonNode *value, char **ret_string) {
  if (!node_is(value, G_TYPE_STRING))
    return -EPROTO;
  *ret_string = g_strdup(json_node_get_string(value));
  return 0;
}

/* ---- events ---- */

int qmp_event_parse_shutdown(JsonNode *data, bool *ret_guest, char **ret_reason) {
  JsonObject *o = NULL;
  bool guest = false;
  const char *reason = NULL;
  if (value_object(data, "the event data", &o, NULL) < 0 ||
      member_bool(o, "the event data", "guest", true, &guest, NULL) < 0 ||
      member_string(o, "the event data", "reason", true, &reason, NULL) < 0)
    return -EPROTO;
  *ret_guest = guest;
  *ret_reason = g_strdup(reason);
  return 0;
}

int qmp_event_parse_guest_panicked(JsonNode *data, char **ret_action) {
  JsonObject *o = NULL;
  const char *action = NULL;
  if (value_object(data, "the event data", &o, NULL) < 0 ||
      member_string(o, "the event data", "action", true, &action, NULL) < 0)
    return -EPROTO;
  *ret_action = g_strdup(action);
  return 0;
}

int qmp_event_parse_device_deleted(JsonNode *data, char **ret_device, char **ret_path) {
  JsonObject *o = NULL;
  const char *device = NULL, *path = NULL;
  if (value_object(data, "the event data", &o, NULL) < 0 ||
      member_string(o, "the event data", "device", false, &device, NULL) < 0 ||
      member_string(o, "the event data", "path", true, &path, NULL) < 0)
    return -EPROTO;
  *ret_device = g_strdup(device);
  *ret_path = g_strdup(path);
  return 0;
}

int qmp_event_parse_balloon_change(JsonNode *data, uint64_t *ret_actual_bytes) {
  JsonObject *o = NULL;
  uint64_t actual = 0;
  if (value_object(data, "the event data", &o, NULL) < 0 ||
      member_uint(o, "the event data", "actual", true, &actual, NULL) < 0)
    return -EPROTO;
  *ret_actual_bytes = actual;
  return 0;
}
