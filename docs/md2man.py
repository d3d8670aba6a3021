#!/usr/bin/env python3
"""md2man.py — builds the man pages virtfs(1) and virtfs(5) from docs/*.md.

The Markdown pages are the reference; the man pages are the same text for
`man`. virtfs(1) is docs/daemon.md (its first code block is the synopsis,
its first table the options); virtfs(5) is every other object page, in the
order of PAGES_5 and then alphabetically, one .SH per page, each "###" file
heading a .SS (tests/integration/test_docs.sh checks that every served file
has one). README.md and testing.md are for developers and stay out.

    docs/md2man.py              rewrite docs/virtfs.1 and docs/virtfs.5
    docs/md2man.py --check      exit 1 (and show a diff) if they are stale
    docs/md2man.py --out DIR    write them into DIR instead

Only the Markdown the docs use is understood: headings, paragraphs,
indented or fenced code blocks, "-" and "1." lists, pipe tables, `code`,
**bold**, *italic* and [links](target). The output uses only man(7) macros
that groff renders without warnings (`groff -ww -z -man`); tables become
tagged paragraphs, so no tbl preprocessor is needed.
"""
import difflib
import os
import re
import sys

DOCS = os.path.dirname(os.path.abspath(__file__))

# virtfs(5): page -> section title, in this order; other pages follow.
PAGES_5 = [
    ("filesystem.md", "RULES EVERY FILE FOLLOWS"),
    ("domains.md", "DOMAINS"),
    ("domain-xml.md", "DOMAIN XML"),
    ("snapshots.md", "SNAPSHOTS"),
    ("migration.md", "LIVE MIGRATION AND FLEETS"),
    ("networks.md", "NETWORKS"),
    ("pools.md", "POOLS"),
    ("volumes.md", "VOLUMES"),
    ("node.md", "NODE"),
    ("events.md", "EVENTS"),
    ("history.md", "HISTORY"),
    ("metrics.md", "METRICS"),
]
NOT_IN_MAN = {"README.md", "testing.md", "daemon.md"}

SPECIAL = {
    "\u2014": r"\(em", "\u2013": r"\(en", "\u2026": "...", "\u2192": r"\(->",
    "\u2190": r"\(<-", "\u21c4": "<->", "\u00d7": r"\(mu", "\u2018": "'",
    "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": r"\~",
}


def project_version():
    with open(os.path.join(DOCS, "..", "meson.build"), encoding="utf-8") as f:
        m = re.search(r"version:\s*'([^']+)'", f.read())
    return m.group(1) if m else "unknown"


def escape(text, code=False):
    """Escapes text for roff; in code, '-' is a real minus (copy-paste)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append(r"\e")
        elif ch == "-" and code:
            out.append(r"\-")
        elif ch in SPECIAL:
            out.append(SPECIAL[ch])
        elif ord(ch) > 126:
            out.append(r"\[u%04X]" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])|\[([^\]]+)\]\(([^)]+)\)")


def inline(text):
    """Markdown inline markup to roff font escapes."""
    out, pos = [], 0
    for m in INLINE.finditer(text):
        out.append(escape(text[pos:m.start()]))
        code, bold, italic, link_text, link = m.groups()
        if code is not None:
            out.append(r"\fB\%" + escape(code, code=True) + r"\fR")
        elif bold is not None:
            out.append(r"\fB" + inline(bold) + r"\fR")
        elif italic is not None:
            out.append(r"\fI" + inline(italic) + r"\fR")
        else:
            out.append(link_reference(link_text, link))
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def link_reference(text, link):
    """A link as man pages say it: a link that names a docs page becomes a
    reference to the man page (and section) holding that page."""
    target = link.split("#")[0]
    if text == target or text == "`%s`" % target:
        if target == "daemon.md":
            return r"\fBvirtfs\fR(1)"
        title = dict(PAGES_5).get(target)
        if title:
            return escape(title) + r" in \fBvirtfs\fR(5)"
    if re.match(r"https?://", link):
        return inline(text) + " <" + escape(link) + ">"
    return inline(text)


def plain_heading(text):
    """A heading for .SH: markup removed, upper case."""
    return escape(re.sub(r"[`*]", "", text).upper())


def text_lines(text):
    """Filled text as roff input lines: no leading blank or control dot."""
    lines = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line[0] in ".'":
            line = r"\&" + line
        lines.append(line)
    return lines


def code_block(lines):
    out = [".PP", ".RS 4", ".nf"]
    for line in lines:
        e = escape(line, code=True)
        if e.startswith((".", "'")):
            e = r"\&" + e
        out.append(e)
    out += [".fi", ".RE"]
    return out


def split_row(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith(r"\|"):
        line = line[:-1]
    cells = re.split(r"(?<!\\)\|", line)
    return [c.strip().replace(r"\|", "|") for c in cells]


def table(rows):
    """A pipe table as tagged paragraphs: the first cell is the tag; with
    more than two columns each further cell is prefixed by its header."""
    header, body = rows[0], rows[2:]
    out = []
    for row in body:
        row = row + [""] * (len(header) - len(row))
        out += [".TP", inline(row[0]) or r"\&"]
        if len(header) == 2:
            out += text_lines(inline(row[1]))
        else:
            first = True
            for title, cell in zip(header[1:], row[1:]):
                if not cell:
                    continue
                if not first:
                    out.append(".br")
                out.append(r"\fI" + inline(title) + r":\fR " + inline(cell))
                first = False
    return out


def indent_of(line):
    return len(line) - len(line.lstrip(" "))


class Page:
    """One Markdown page parsed into blocks: (kind, payload)."""

    def __init__(self, text):
        self.blocks = []
        lines = text.split("\n")
        i, n = 0, len(lines)
        while i < n:
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            if line.startswith("```"):
                j = i + 1
                while j < n and not lines[j].startswith("```"):
                    j += 1
                self.blocks.append(("code", lines[i + 1:j]))
                i = j + 1
                continue
            if indent_of(line) >= 4:
                i = self._code(lines, i, indent_of(line))
                continue
            m = re.match(r"(#{1,6}) +(.*)", line)
            if m:
                self.blocks.append(("h%d" % len(m.group(1)), m.group(2).strip()))
                i += 1
                continue
            if line.lstrip().startswith("|") and i + 1 < n and re.match(r"\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
                j = i
                rows = []
                while j < n and lines[j].lstrip().startswith("|"):
                    rows.append(split_row(lines[j]))
                    j += 1
                self.blocks.append(("table", rows))
                i = j
                continue
            m = re.match(r"( *)(-|\d+\.) +(.*)", line)
            if m:
                i = self._item(lines, i, m)
                continue
            j = i
            para = []
            while j < n and lines[j].strip() and not self._starts_block(lines, j):
                para.append(lines[j])
                j += 1
            self.blocks.append(("para", "\n".join(para)))
            i = j

    @staticmethod
    def _starts_block(lines, j):
        line = lines[j]
        return (re.match(r"#{1,6} ", line) or re.match(r" *(-|\d+\.) ", line)
                or line.startswith("```") or line.lstrip().startswith("|"))

    def _code(self, lines, i, base):
        """An indented code block; blank lines inside it are kept."""
        j, block = i, []
        while j < len(lines) and (not lines[j].strip() or indent_of(lines[j]) >= base):
            block.append(lines[j][base:])
            j += 1
        while block and not block[-1].strip():
            block.pop()
        self.blocks.append(("code", block))
        return j

    def _item(self, lines, i, m):
        """A list item and its continuation lines; an indented block after
        a blank line inside the item is its code example."""
        bullet = "-" if m.group(2) == "-" else m.group(2)
        body_indent = len(m.group(1)) + len(m.group(2)) + 1
        text = [m.group(3)]
        j = i + 1
        while j < len(lines):
            line = lines[j]
            if not line.strip():
                break
            if self._starts_block(lines, j) and indent_of(line) < body_indent:
                break
            text.append(line)
            j += 1
        self.blocks.append(("item", (bullet, "\n".join(text))))
        # continuation paragraphs or code of the same item
        while j < len(lines):
            k = j
            while k < len(lines) and not lines[k].strip():
                k += 1
            if k >= len(lines) or indent_of(lines[k]) < body_indent:
                return j
            if indent_of(lines[k]) >= body_indent + 4:
                j = self._code(lines, k, indent_of(lines[k]))
                self.blocks.append(("item-code", self.blocks.pop()[1]))
            else:
                para = []
                while k < len(lines) and lines[k].strip() and indent_of(lines[k]) >= body_indent:
                    para.append(lines[k])
                    k += 1
                self.blocks.append(("item-para", "\n".join(para)))
                j = k
        return j


def render_blocks(blocks, heading_macro):
    """Blocks to roff lines; heading_macro(level, text) renders headings."""
    out = []
    for kind, payload in blocks:
        if kind.startswith("h"):
            out += heading_macro(int(kind[1:]), payload)
        elif kind == "para":
            out += [".PP"] + text_lines(inline(payload))
        elif kind == "code":
            out += code_block(payload)
        elif kind == "table":
            out += table(payload)
        elif kind == "item":
            bullet, text = payload
            if bullet == "-":
                out += [r".IP \(bu 2"]
            else:
                out += [".IP %s 4" % bullet]
            out += text_lines(inline(text))
        elif kind == "item-para":
            out += [".IP"] + text_lines(inline(payload))
        elif kind == "item-code":
            out += [".IP", ".nf"] + [(r"\&" if l.startswith((".", "'")) else "") + escape(l, code=True)
                                     for l in payload] + [".fi"]
    return out


def header(section, title):
    return [
        r'.\" Generated by docs/md2man.py from docs/*.md: edit those, then run it.',
        '.TH VIRTFS %d "" "virtfs %s" "%s"' % (section, project_version(), title),
    ]


def read(page):
    with open(os.path.join(DOCS, page), encoding="utf-8") as f:
        return Page(f.read())


def man1():
    page = read("daemon.md")
    blocks = [b for b in page.blocks if b[0] != "h1"]
    # Before the first "##": the synopsis (first code block) and the
    # options (first table).
    first_h2 = next((i for i, b in enumerate(blocks) if b[0] == "h2"), len(blocks))
    intro, rest = blocks[:first_h2], blocks[first_h2:]
    synopsis = next((b for b in intro if b[0] == "code"), ("code", []))
    options = next((b for b in intro if b[0] == "table"), None)
    others = [b for b in intro if b is not synopsis and b is not options]

    out = header(1, "User Commands")
    out += [".SH NAME", r"virtfs \- virtual machines, networks and storage as files"]
    out += [".SH SYNOPSIS", ".nf"]
    out += [escape(l.strip(), code=True) for l in synopsis[1]] + [".fi"]
    out += [".SH DESCRIPTION", ".PP"]
    out += text_lines(inline(
        "**virtfs** is a FUSE daemon that mounts the virtual machines (QEMU/KVM), "
        "networks and storage of a host as files, usually on `/virt`. Reading a "
        "file asks QEMU or the kernel for the truth; writing one changes it, so "
        "`cat`, `echo`, `cp`, `sed -i`, editors, Ansible and `sshfs` manage the "
        "host. The files are described in **virtfs**(5)."))
    out += render_blocks(others, lambda level, text: [])
    if options:
        out += [".SH OPTIONS"] + table(options[1])
    out += render_blocks(rest, lambda level, text:
                         [".SH " + plain_heading(text)] if level == 2 else [".SS " + inline(text)])
    out += [".SH SEE ALSO",
            r"\fBvirtfs\fR(5), \fBfusermount3\fR(1), \fBmount.fuse3\fR(8), "
            r"\fBsshfs\fR(1), \fBqemu-system-x86_64\fR(1)"]
    return "\n".join(out) + "\n"


def man5():
    names = sorted(p for p in os.listdir(DOCS) if p.endswith(".md") and p not in NOT_IN_MAN)
    known = [p for p, _ in PAGES_5]
    order = [(p, t) for p, t in PAGES_5 if p in names]
    order += [(p, p[:-3].replace("-", " ").upper()) for p in names if p not in known]

    out = header(5, "File Formats")
    out += [".SH NAME", r"virtfs \- the files of a virtfs mount"]
    out += [".SH SYNOPSIS", ".nf"]
    out += [escape(l, code=True) for l in [
        "/virt/events",
        "/virt/events.log",
        "/virt/metrics",
        "/virt/node/{version,info,capabilities.xml}",
        "/virt/domains/NAME/{config.xml,state,ctl,console,memory,...}",
        "/virt/networks/NAME/...",
        "/virt/pools/NAME/volumes/VOLUME/...",
    ]] + [".fi"]
    out += [".SH DESCRIPTION", ".PP"]
    out += text_lines(inline(
        "A mount of **virtfs**(1) shows each virtual machine (domain), network, "
        "storage pool and volume of the host as a directory of files. This page "
        "describes the rules all files follow and then every file of every "
        "object, with its values, errors and examples. The same text, as "
        "Markdown, is in the `docs/` directory of the source."))
    for page, title in order:
        blocks = [b for b in read(page).blocks if b[0] != "h1"]
        out.append(r'.\" page: ' + page)
        out.append(".SH " + escape(title))
        out += render_blocks(blocks, lambda level, text: [".SS " + inline(text)])
    out += [".SH SEE ALSO",
            r"\fBvirtfs\fR(1), \fBsshfs\fR(1), \fBvirsh\fR(1) for the XML formats"]
    return "\n".join(out) + "\n"


def main(argv):
    pages = {"virtfs.1": man1(), "virtfs.5": man5()}
    if argv[1:2] == ["--check"]:
        stale = False
        for name, text in pages.items():
            path = os.path.join(DOCS, name)
            try:
                with open(path, encoding="utf-8") as f:
                    old = f.read()
            except OSError:
                old = ""
            if old != text:
                stale = True
                print("docs/%s is out of date: run docs/md2man.py and commit the result" % name)
                diff = difflib.unified_diff(old.splitlines(), text.splitlines(),
                                            "docs/" + name, "generated", lineterm="")
                for i, line in enumerate(diff):
                    if i >= 40:
                        print("...")
                        break
                    print(line)
        return 1 if stale else 0
    outdir = argv[2] if argv[1:2] == ["--out"] else DOCS
    for name, text in pages.items():
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
