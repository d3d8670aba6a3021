# sshd_lib.sh — a throwaway OpenSSH server on 127.0.0.1 for the tests that
# reach the mount over ssh/sshfs. Source it after lib.sh:
#   . "$(dirname "$0")/sshd_lib.sh"
#   sshd_start || exit 1
#   sshfs_mount root "$MNT" "$WORK/client" -o dir_cache=no
#
# Everything lives in $WORK/ssh and goes away with it: a fresh host key, a
# client key per user, an authorized_keys file per user (AuthorizedKeysFile
# points there, so no home directory is touched), and the server's own
# sshd_config. No PAM (UsePAM no): the accounts need a passwd entry and a
# shell but no password. The only thing outside $WORK is /run/sshd, the
# empty privilege-separation directory sshd refuses to start without; it is
# created when missing and removed again at exit.

SSH_DIR="$WORK/ssh"
SSHD_PORT=""
SSHD_PID=""
SSHD_LOG="$SSH_DIR/sshd.log"
SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

need_cmd ssh ssh-keygen sshfs python3
[[ -x "$SSHD_BIN" ]] || skip "needs sshd (openssh-server)"

# A free TCP port on 127.0.0.1 (bound and released; the race with other
# programs is harmless here: sshd then fails to start and says so).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# sshd_add_key USER: a key pair $SSH_DIR/id_USER allowed to log in as USER.
sshd_add_key() {
  local user=$1
  [[ -f "$SSH_DIR/id_$user" ]] && return 0
  ssh-keygen -q -t ed25519 -N '' -C "virtfs-test-$user" -f "$SSH_DIR/id_$user" || return 1
  cat "$SSH_DIR/id_$user.pub" > "$SSH_DIR/authorized_keys.$user"
  # The client key must be private to whoever runs ssh with it.
  chmod 600 "$SSH_DIR/id_$user"
}

# sshd_start: the server on a free port of 127.0.0.1, logging to $SSHD_LOG.
sshd_start() {
  mkdir -p "$SSH_DIR"
  chmod 755 "$SSH_DIR"
  ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/host_ed25519" || return 1
  if [[ ! -d /run/sshd ]]; then
    mkdir -m 0755 /run/sshd
    on_exit "rmdir /run/sshd 2>/dev/null"
  fi
  SSHD_PORT=$(free_port)
  cat > "$SSH_DIR/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey $SSH_DIR/host_ed25519
PidFile $SSH_DIR/sshd.pid
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $SSH_DIR/authorized_keys.%u
# The scratch dir lives under /tmp (world-writable parents): StrictModes
# would refuse every key file there.
StrictModes no
# In-process SFTP: no dependency on the sftp-server path, and it works for
# accounts whose shell is nologin (the session never runs a shell).
Subsystem sftp internal-sftp
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
LogLevel VERBOSE
EOF
  "$SSHD_BIN" -t -f "$SSH_DIR/sshd_config" || { echo "# sshd_config rejected"; return 1; }
  "$SSHD_BIN" -D -e -f "$SSH_DIR/sshd_config" 2>>"$SSHD_LOG" &
  SSHD_PID=$!
  on_exit "sshd_stop"
  local i
  for ((i = 0; i < 100; i++)); do
    if grep -q "Server listening" "$SSHD_LOG" 2>/dev/null; then return 0; fi
    if ! kill -0 "$SSHD_PID" 2>/dev/null; then
      echo "# sshd exited early:"; sed 's/^/#   /' "$SSHD_LOG"; return 1
    fi
    sleep 0.1
  done
  echo "# sshd did not listen in 10 s"; return 1
}

sshd_stop() {
  [[ -n "$SSHD_PID" ]] || return 0
  kill "$SSHD_PID" 2>/dev/null
  wait "$SSHD_PID" 2>/dev/null
  SSHD_PID=""
}

# The client options shared by ssh and sshfs: only our key, no host key
# prompts or records, never a password prompt.
ssh_client_opts() { # USER
  echo "-p $SSHD_PORT -o IdentityFile=$SSH_DIR/id_$1 -o IdentitiesOnly=yes" \
       "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" \
       "-o BatchMode=yes -o LogLevel=ERROR"
}

# ssh_as USER COMMAND...: runs a command on the server as USER.
ssh_as() {
  local user=$1; shift
  # shellcheck disable=SC2046
  ssh $(ssh_client_opts "$user") "$user@127.0.0.1" "$@"
}

# sshfs_mount USER REMOTE_DIR LOCAL_DIR [SSHFS OPTIONS...]: mounts
# REMOTE_DIR of the server, logged in as USER, and unmounts it at exit.
sshfs_mount() {
  local user=$1 remote=$2 local_dir=$3; shift 3
  mkdir -p "$local_dir"
  # shellcheck disable=SC2046
  sshfs $(ssh_client_opts "$user") "$user@127.0.0.1:$remote" "$local_dir" "$@" || return 1
  on_exit "fusermount3 -u '$local_dir' 2>/dev/null || fusermount3 -uz '$local_dir'"
}
