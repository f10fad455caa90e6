# Samba 4 AD domain controller for the stack tool: the on-premises Active Directory that the
# sync worker reads with DirSync. Sourced after lib.sh; defines samba_up, samba_down,
# samba_status and samba_log, and has no side effects when sourced.
#
# Everything (smb.conf, sam.ldb, TLS files, log, pid file) lives in $STACK_DIR/samba. The DC
# serves LDAP/LDAPS on loopback only and runs nothing but its LDAP service. As on real AD,
# simple binds need TLS: use ldaps://127.0.0.1:636 with the CA in private/tls/ca.pem.

SAMBA_LDAPS_URL=ldaps://127.0.0.1:636   # fixed: Samba has no setting for the LDAPS port
SAMBA_NETBIOS_NAME=LATCHKEY-DC          # must differ from the NetBIOS domain name
SAMBA_HOST_NAME=dc                      # the DC's DNS name is dc.<realm>

# Read configuration at call time, so the environment, .env and .env.example all apply.
_samba_config() {
  SAMBA_REALM="${SAMBA_REALM:-LATCHKEY.TEST}"
  SAMBA_DOMAIN="${SAMBA_DOMAIN:-LATCHKEY}"
  SAMBA_ADMIN_PASSWORD="${SAMBA_ADMIN_PASSWORD:-Latchkey-Admin-2026!}"
  LDAP_BASE_DN="${LDAP_BASE_DN:-DC=latchkey,DC=test}"
  LDAP_USERS_OU="${LDAP_USERS_OU:-OU=Staff,DC=latchkey,DC=test}"
  LDAP_BIND_DN="${LDAP_BIND_DN:-CN=latchkey-sync,OU=Service Accounts,DC=latchkey,DC=test}"
  LDAP_BIND_PASSWORD="${LDAP_BIND_PASSWORD:-Latchkey-Sync-2026!}"
  # Read by the apps, not by this module: checked against what the DC really serves.
  LDAP_URL="${LDAP_URL:-ldaps://127.0.0.1:636}"
  LDAP_CA_FILE="${LDAP_CA_FILE:-.stack/samba/private/tls/ca.pem}"
  SAMBA_HOME="$STACK_DIR/samba"
  SAMBA_CONF="$SAMBA_HOME/etc/smb.conf"
  SAMBA_PID="$SAMBA_HOME/samba.pid"
  SAMBA_CA="$SAMBA_HOME/private/tls/ca.pem"
}

samba_log() { echo "$STACK_DIR/samba/samba.log"; }

samba_up() {
  _samba_config
  # Fast path: ours is running and the sync worker can already bind.
  _samba_running && _samba_bind "$LDAP_BIND_DN" "$LDAP_BIND_PASSWORD" && return 0

  _samba_install || fail samba "could not install the Debian packages"
  _samba_provision
  _samba_running || _samba_start
  wait_until 60 _samba_ldaps_answers ||
    fail samba "no LDAPS answer on $SAMBA_LDAPS_URL within 60 s" "$(samba_log)"
  _samba_bind "Administrator@$SAMBA_REALM" "$SAMBA_ADMIN_PASSWORD" ||
    fail samba "Administrator cannot bind: does SAMBA_ADMIN_PASSWORD match the provisioned domain? (rm -rf $SAMBA_HOME re-provisions)" "$(samba_log)"
  _samba_seed
  _samba_check_app_config
  say "samba: up on $SAMBA_LDAPS_URL, realm $SAMBA_REALM"
}

samba_down() {
  _samba_config
  _samba_running || { rm -f "$SAMBA_PID"; return 0; }
  # SIGTERM makes the root process take its forked LDAP workers down with it.
  stop_pid "$SAMBA_PID" 20
  wait_until 10 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/636)" ||
    fail samba "something still listens on 127.0.0.1:636 after stopping the DC" "$(samba_log)"
}

samba_status() {
  _samba_config
  if _samba_running; then
    echo "samba: up (pid $(cat "$SAMBA_PID"), $SAMBA_LDAPS_URL, realm $SAMBA_REALM)"
  else
    echo "samba: down"
    return 1
  fi
}

# The pid file names a live process that is Samba (not a recycled pid after a reboot).
_samba_running() {
  pid_alive "$SAMBA_PID" && [ "$(cat "/proc/$(cat "$SAMBA_PID")/comm" 2>/dev/null)" = samba ]
}

# The apps connect with LDAP_URL and LDAP_CA_FILE; say so when those miss this DC.
_samba_check_app_config() {
  local ca="$LDAP_CA_FILE"
  case "$ca" in /*) ;; *) ca="$ROOT/$ca" ;; esac
  [ "$(realpath -m "$ca")" = "$(realpath -m "$SAMBA_CA")" ] ||
    say "samba: warning: LDAP_CA_FILE=$LDAP_CA_FILE is not this DC's CA ($SAMBA_CA)"
  case "$LDAP_URL" in ldaps://127.0.0.1:636|ldaps://127.0.0.1|ldaps://localhost:636|ldaps://localhost) ;;
    *) say "samba: warning: LDAP_URL=$LDAP_URL is not this DC ($SAMBA_LDAPS_URL)" ;; esac
}

# _samba_bind DN PASSWORD: a real simple bind over LDAPS, verifying the certificate.
_samba_bind() {
  command -v ldapsearch >/dev/null || return 1
  LDAPCONF=/dev/null LDAPRC=/dev/null LDAPTLS_CACERT="$SAMBA_CA" LDAPTLS_REQCERT=demand \
    ldapsearch -o nettimeout=5 -H "$SAMBA_LDAPS_URL" -x -D "$1" -w "$2" \
    -b "$LDAP_BASE_DN" -s base -LLL dn >/dev/null 2>&1
}

# The DC is serving when a TLS-verified bind gets an answer, even "invalid credentials" (49),
# so a wrong password fails at once instead of after the whole wait.
_samba_ldaps_answers() {
  _samba_bind "Administrator@$SAMBA_REALM" "$SAMBA_ADMIN_PASSWORD"
  case $? in 0|49) return 0 ;; *) return 1 ;; esac
}

# Debian's samba postinst would start smbd/nmbd/samba-ad-dc through invoke-rc.d; a
# policy-rc.d that exits 101 forbids that. Containers usually have one; when this machine
# has none, put one in place just for the install.
_samba_install() {
  local pkgs=(samba samba-ad-provision samba-dsdb-modules samba-vfs-modules python3-samba
              ldb-tools ldap-utils openssl)
  local guard=/usr/sbin/policy-rc.d rc
  [ -e "$guard" ] && { apt_install "${pkgs[@]}"; return; }
  printf '#!/bin/sh\nexit 101\n' >"$guard" && chmod 755 "$guard"
  apt_install "${pkgs[@]}"; rc=$?
  rm -f "$guard"
  return $rc
}

# Provision once. A directory without the marker is a half-finished attempt: start over.
_samba_provision() {
  [ -f "$SAMBA_HOME/.provisioned" ] && return 0
  say "samba: provisioning realm $SAMBA_REALM in $SAMBA_HOME"
  rm -rf "$SAMBA_HOME" && mkdir -p "$SAMBA_HOME"
  # -s /dev/null: start from Samba's defaults, not from the machine's /etc/samba/smb.conf.
  samba-tool domain provision -s /dev/null --targetdir="$SAMBA_HOME" \
    --server-role=dc --dns-backend=NONE --host-name="$SAMBA_HOST_NAME" \
    --realm="$SAMBA_REALM" --domain="$SAMBA_DOMAIN" --adminpass="$SAMBA_ADMIN_PASSWORD" \
    --host-ip=127.0.0.1 \
    --option="netbios name = $SAMBA_NETBIOS_NAME" \
    --option="server services = ldap" \
    --option="interfaces = ${SAMBA_INTERFACES:-lo}" --option="bind interfaces only = yes" \
    --option="log file = $(samba_log)" --option="pid directory = $SAMBA_HOME" \
    >"$SAMBA_HOME/provision.log" 2>&1 ||
    fail samba "samba-tool domain provision failed" "$SAMBA_HOME/provision.log"
  _samba_make_tls >>"$SAMBA_HOME/provision.log" 2>&1 ||
    fail samba "could not create the TLS certificate" "$SAMBA_HOME/provision.log"
  touch "$SAMBA_HOME/.provisioned"
}

# Samba would generate its own certificate on first start, but only for the DC's host name
# and without subjectAltName, so clients checking 127.0.0.1 reject it. Put a dev CA and a
# server certificate for 127.0.0.1/localhost/dc.<realm> where Samba looks for them.
_samba_make_tls() {
  local dir="$SAMBA_HOME/private/tls" fqdn
  fqdn="$SAMBA_HOST_NAME.${SAMBA_REALM,,}"
  mkdir -p "$dir" && (
    cd "$dir" && umask 077 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.pem \
      -subj "/O=Latchkey dev/CN=Latchkey dev Samba CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    openssl req -newkey rsa:2048 -nodes -keyout key.pem -out server.csr -subj "/O=Latchkey dev/CN=$fqdn" &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
      "$fqdn" >server.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
      -days 3650 -extfile server.ext -out cert.pem &&
    # Nothing should sign more certificates: drop the CA key. Samba insists on a 0600 key.pem.
    rm -f ca.key server.csr server.ext && chmod 644 ca.pem cert.pem && chmod 600 key.pem
  )
}

_samba_start() {
  say "samba: starting the DC"
  rm -f "$SAMBA_PID"
  # -D daemonizes; Samba writes $SAMBA_PID itself because of "pid directory".
  samba -s "$SAMBA_CONF" -D >>"$(samba_log)" 2>&1 || fail samba "samba did not start" "$(samba_log)"
  wait_until 10 pid_alive "$SAMBA_PID" || fail samba "samba wrote no pid file" "$(samba_log)"
}

# Seed users and the service account with its DirSync rights (stack/samba/seed.py; safe to
# repeat). Debian's python3: the pyenv one first on PATH lacks Samba's bindings.
_samba_seed() {
  local seed=("/usr/bin/python3" "$ROOT/stack/samba/seed.py" --conf "$SAMBA_CONF"
              --users-ou "$LDAP_USERS_OU" --bind-dn "$LDAP_BIND_DN" --bind-password "$LDAP_BIND_PASSWORD")
  "${seed[@]}" || fail samba "seeding the directory failed (seed.py's error is above)"
  _samba_bind "$LDAP_BIND_DN" "$LDAP_BIND_PASSWORD" && return 0
  # The account exists with another password (LDAP_BIND_PASSWORD changed): make it match.
  "${seed[@]}" --reset-bind-password &&
    _samba_bind "$LDAP_BIND_DN" "$LDAP_BIND_PASSWORD" ||
    fail samba "the service account $LDAP_BIND_DN cannot bind over LDAPS" "$(samba_log)"
}
