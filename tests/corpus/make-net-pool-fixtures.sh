#!/usr/bin/env bash
# Generates the network and storage corpus with the real tools:
#   tests/data/corpus-networks/NAME.xml      `virsh net-dumpxml --inactive`
#   tests/data/corpus-storage/pool-NAME.xml  `virsh pool-dumpxml [--inactive]`
#   tests/data/corpus-storage/vol-NAME.xml   `virsh vol-dumpxml` of volumes
#                                            libvirt made in the dir pool
#                                            "images" (pool-images.xml)
# after libvirt defined what users write: the forms of libvirt's
# formatnetwork and formatstorage documentation, virt-manager's defaults,
# and `virsh pool-define-as` / `vol-create-as`. The fixtures are committed;
# run this again only to refresh them:
#   sudo tests/corpus/make-net-pool-fixtures.sh
# (The domain corpus has its own script, make-fixtures.sh.)
#
# libvirt is installed here and only here: virtfs never needs libvirt at run
# time. libvirt runs as a session daemon of an unprivileged user (nobody) in
# a scratch directory: unix socket only, nothing written to the host's /etc,
# /run or /var; a session daemon only defines networks (it never starts
# one), and the one pool it builds and starts is a directory in the scratch
# directory. It exits on its own when idle.
set -euo pipefail
cd "$(dirname "$0")/../.."
nets=tests/data/corpus-networks
store=tests/data/corpus-storage

if [[ $(id -u) -ne 0 ]]; then
  echo "make-net-pool-fixtures: run as root (installs packages, runs libvirt as nobody)" >&2
  exit 1
fi
pkgs=(libvirt-clients libvirt-daemon qemu-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scratch=$(mktemp -d /tmp/virtfs-netpool.XXXXXX)
chmod 755 "$scratch"
mkdir -p "$scratch/home" "$scratch/run" "$scratch/in" "$scratch/pools"
chown nobody "$scratch/home" "$scratch/run" "$scratch/pools"
chmod 700 "$scratch/run"
cleanup() {
  local pidfile=$scratch/run/libvirt/libvirtd.pid
  [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

as_nobody() {
  timeout 120 runuser -u nobody -- env HOME="$scratch/home" XDG_RUNTIME_DIR="$scratch/run" \
    XDG_CONFIG_HOME="$scratch/home/.config" XDG_CACHE_HOME="$scratch/home/.cache" "$@"
}
virsh_() { as_nobody virsh -q -c qemu:///session "$@"; }
# The scratch pool directory becomes libvirt's conventional one.
IMG=/var/lib/libvirt/images
fix_paths() { sed "s|$scratch/pools|$IMG|g"; }
input() { cat >"$scratch/in/$1.xml"; chmod 644 "$scratch/in/$1.xml"; }

mkdir -p "$nets" "$store"
rm -f "$nets"/*.xml "$store"/*.xml

# ---- networks: NAME and the XML a user defines
input default <<'XML'
<network>
  <name>default</name>
  <bridge name='virbr0'/>
  <forward/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
XML
input nat-address-port <<'XML'
<network>
  <name>nat-address-port</name>
  <forward mode='nat' dev='eth0'>
    <nat>
      <address start='198.51.100.10' end='198.51.100.20'/>
      <port start='500' end='1000'/>
    </nat>
  </forward>
  <ip address='192.168.130.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.130.100' end='192.168.130.199'/></dhcp>
  </ip>
</network>
XML
input routed <<'XML'
<network>
  <name>routed</name>
  <bridge name='virbr1'/>
  <forward mode='route' dev='eth1'/>
  <ip address='192.168.140.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.140.128' end='192.168.140.254'/></dhcp>
  </ip>
  <ip family='ipv6' address='2001:db8:ca2:2::1' prefix='64'>
    <dhcp><range start='2001:db8:ca2:2::100' end='2001:db8:ca2:2::1ff'/></dhcp>
  </ip>
</network>
XML
input isolated-ipv6-yes <<'XML'
<network ipv6='yes'>
  <name>isolated-ipv6-yes</name>
  <bridge name='virbr2' stp='on' delay='0'/>
</network>
XML
input open <<'XML'
<network>
  <name>open</name>
  <forward mode='open'/>
  <ip address='192.168.150.1' netmask='255.255.255.0'/>
</network>
XML
input host-bridge <<'XML'
<network>
  <name>host-bridge</name>
  <forward mode='bridge'/>
  <bridge name='br0'/>
</network>
XML
input dual-stack-nat6 <<'XML'
<network>
  <name>dual-stack-nat6</name>
  <forward mode='nat'>
    <nat ipv6='yes'/>
  </forward>
  <ip address='192.168.160.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.160.2' end='192.168.160.254'/></dhcp>
  </ip>
  <ip address='192.168.161.1' prefix='24'/>
  <ip family='ipv6' address='fdd8:7c4c:d1d9:b4b6::1' prefix='64'>
    <dhcp><range start='fdd8:7c4c:d1d9:b4b6::1000' end='fdd8:7c4c:d1d9:b4b6::2000'/></dhcp>
  </ip>
  <ip family='ipv6' address='fdd8:7c4c:d1d9:b4b7::1' prefix='64'/>
</network>
XML
input dns-options <<'XML'
<network>
  <name>dns-options</name>
  <forward mode='nat'/>
  <domain name='example.com' localOnly='yes'/>
  <dns forwardPlainNames='no'>
    <forwarder domain='example.com' addr='8.8.4.4'/>
    <forwarder addr='8.8.8.8'/>
    <forwarder domain='www.example.com'/>
    <txt name='example' value='example value'/>
    <srv service='name' protocol='tcp' domain='test-domain-name' target='.' port='1024' priority='10' weight='10'/>
    <host ip='192.168.170.2'>
      <hostname>myhost</hostname>
      <hostname>myhostalias</hostname>
    </host>
  </dns>
  <ip address='192.168.170.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.170.100' end='192.168.170.199'/></dhcp>
  </ip>
</network>
XML
input mtu-mac <<'XML'
<network>
  <name>mtu-mac</name>
  <forward mode='nat'/>
  <bridge name='virbr9' stp='off' delay='2'/>
  <mtu size='9000'/>
  <mac address='52:54:00:aa:bb:cc'/>
  <ip address='192.168.180.1' netmask='255.255.255.0'/>
</network>
XML
input bandwidth-portgroups <<'XML'
<network>
  <name>bandwidth-portgroups</name>
  <forward mode='nat'/>
  <bandwidth>
    <inbound average='1000' peak='5000' burst='5120'/>
    <outbound average='128' peak='256' burst='256'/>
  </bandwidth>
  <ip address='192.168.190.1' netmask='255.255.255.0'/>
  <portgroup name='engineering' default='yes'>
    <bandwidth>
      <inbound average='1000' peak='5000' burst='5120'/>
      <outbound average='1000' peak='5000' burst='5120'/>
    </bandwidth>
  </portgroup>
  <portgroup name='sales'>
    <bandwidth>
      <inbound average='500' peak='2000' burst='2560'/>
    </bandwidth>
  </portgroup>
</network>
XML
input static-hosts <<'XML'
<network>
  <name>static-hosts</name>
  <forward mode='nat'/>
  <ip address='192.168.200.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.200.100' end='192.168.200.199'/>
      <host mac='00:16:3e:77:e2:ed' name='foo.example.com' ip='192.168.200.10'/>
      <host mac='00:16:3e:3e:a9:1a' name='bar.example.com' ip='192.168.200.11'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='2001:db8:ca2:3::1' prefix='64'>
    <dhcp>
      <host name='paul' ip='2001:db8:ca2:3::10'/>
    </dhcp>
  </ip>
</network>
XML
input ipv6-only <<'XML'
<network>
  <name>ipv6-only</name>
  <forward mode='route'/>
  <ip family='ipv6' address='2001:db8:ca2:4::1' prefix='64'>
    <dhcp><range start='2001:db8:ca2:4::100' end='2001:db8:ca2:4::1ff'/></dhcp>
  </ip>
</network>
XML
for f in "$scratch"/in/*.xml; do
  name=$(basename "$f" .xml)
  virsh_ net-define "$f" >/dev/null
  virsh_ net-dumpxml --inactive "$name" >"$nets/$name.xml"
  virsh_ net-undefine "$name" >/dev/null
  echo "make-net-pool-fixtures: network $name"
done
rm -f "$scratch"/in/*.xml

# ---- pools: defined (and only the dir pool built and started)
input images <<XML
<pool type='dir'>
  <name>images</name>
  <target>
    <path>$scratch/pools/images</path>
    <permissions>
      <mode>0755</mode>
      <label>system_u:object_r:virt_image_t:s0</label>
    </permissions>
  </target>
</pool>
XML
input fs-ext4 <<'XML'
<pool type="fs">
  <name>fs-ext4</name>
  <source>
    <device path="/dev/vdb1"/>
    <format type="ext4"/>
  </source>
  <target>
    <path>/var/lib/virt/images/fs-ext4</path>
  </target>
</pool>
XML
input netfs-nfs <<'XML'
<pool type="netfs">
  <name>netfs-nfs</name>
  <source>
    <host name="nfs.example.com"/>
    <dir path="/var/lib/virt/images"/>
    <format type='nfs'/>
    <protocol ver='3'/>
  </source>
  <target>
    <path>/var/lib/virt/images/nfs</path>
    <permissions>
      <mode>0755</mode>
      <owner>107</owner>
      <group>107</group>
    </permissions>
  </target>
</pool>
XML
input netfs-cifs <<'XML'
<pool type="netfs">
  <name>netfs-cifs</name>
  <source>
    <host name="example.com"/>
    <dir path="/vmshare"/>
    <format type="cifs"/>
  </source>
  <target>
    <path>/var/lib/virt/images/cifs</path>
  </target>
</pool>
XML
input logical-docs <<'XML'
<pool type="logical">
  <name>HostVG</name>
  <source>
    <device path="/dev/sda1"/>
    <device path="/dev/sdb1"/>
    <device path="/dev/sdc1"/>
  </source>
  <target>
    <path>/dev/HostVG</path>
  </target>
</pool>
XML
for f in "$scratch"/in/*.xml; do
  virsh_ pool-define "$f" >/dev/null
done
virsh_ pool-define-as logical-define-as logical --source-dev /dev/sdc --source-name libvirt_lvm \
  --target /dev/libvirt_lvm >/dev/null
virsh_ pool-define-as netfs-define-as netfs --source-host 192.0.2.10 --source-path /export \
  --source-format nfs --target /mnt/export >/dev/null
virsh_ pool-define-as dir-define-as dir --target /var/lib/virt/images/other >/dev/null
virsh_ pool-build images >/dev/null
virsh_ pool-start images >/dev/null
for name in images fs-ext4 netfs-nfs netfs-cifs HostVG logical-define-as netfs-define-as \
            dir-define-as; do
  virsh_ pool-dumpxml --inactive "$name" | fix_paths >"$store/pool-$name.xml"
  echo "make-net-pool-fixtures: pool $name"
done
# An active pool as pool-dumpxml shows it, live sizes included.
virsh_ pool-dumpxml images | fix_paths >"$store/pool-images-active.xml"

# ---- volumes in the dir pool: vol-create-as and XML as users write it
virsh_ vol-create-as images sparse.img 64M --allocation 0 --format raw >/dev/null
virsh_ vol-create-as images full.img 4M --allocation 4M --format raw >/dev/null
virsh_ vol-create-as images disk.qcow2 1G --format qcow2 >/dev/null
virsh_ vol-create-as images overlay.qcow2 1G --format qcow2 --backing-vol disk.qcow2 \
  --backing-vol-format qcow2 >/dev/null
input old <<'XML'
<volume>
  <name>old.qcow2</name>
  <capacity unit='M'>128</capacity>
  <target>
    <format type='qcow2'/>
    <compat>0.10</compat>
  </target>
</volume>
XML
input lazy <<'XML'
<volume>
  <name>lazy.qcow2</name>
  <capacity unit='G'>1</capacity>
  <allocation>0</allocation>
  <target>
    <format type='qcow2'/>
    <compat>1.1</compat>
    <features>
      <lazy_refcounts/>
    </features>
  </target>
</volume>
XML
input perms <<'XML'
<volume>
  <name>perms.img</name>
  <capacity unit='M'>8</capacity>
  <allocation>0</allocation>
  <target>
    <format type='raw'/>
    <permissions>
      <mode>0644</mode>
      <label>virt_image_t</label>
    </permissions>
  </target>
</volume>
XML
for f in old lazy perms; do
  virsh_ vol-create images "$scratch/in/$f.xml" >/dev/null
done
for v in sparse.img full.img disk.qcow2 overlay.qcow2 old.qcow2 lazy.qcow2 perms.img; do
  virsh_ vol-dumpxml --pool images "$v" | fix_paths >"$store/vol-$v.xml"
  echo "make-net-pool-fixtures: volume $v"
done
for v in sparse.img full.img disk.qcow2 overlay.qcow2 old.qcow2 lazy.qcow2 perms.img; do
  virsh_ vol-delete --pool images "$v" >/dev/null
done
virsh_ pool-destroy images >/dev/null
for name in images fs-ext4 netfs-nfs netfs-cifs HostVG logical-define-as netfs-define-as \
            dir-define-as; do
  virsh_ pool-undefine "$name" >/dev/null
done
