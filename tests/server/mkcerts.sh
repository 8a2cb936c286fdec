#!/usr/bin/env bash
# mkcerts.sh DIR -- test certificates made with the openssl CLI: a CA, a good leaf for
# localhost/127.0.0.1, an expired one, a wrong-host one, a self-signed one, and one
# signed by a second CA the client is not told to trust. Idempotent.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
[ -f done ] && exit 0
exec 2>/dev/null
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
ca() { # name
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=acrawl test $1" -days 3650 -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() { # name ca san [startdate enddate]
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" > "$1.ext"
  if [ $# -ge 5 ]; then
    # openssl ca is the one CLI path to a certificate dated in the past.
    mkdir -p db; : > db/index; echo 01 > db/serial
    cat > ca.cnf <<CNF
[ca]
default_ca=c
[c]
database=db/index
serial=db/serial
new_certs_dir=db
default_md=sha256
policy=p
copy_extensions=none
[p]
commonName=supplied
CNF
    openssl ca -batch -config ca.cnf -cert "$2.pem" -keyfile "$2.key" -in "$1.csr" -out "$1.pem" \
      -startdate "$4" -enddate "$5" -extfile "$1.ext" -notext
  else
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 825 \
      -extfile "$1.ext" -out "$1.pem"
  fi
}
ca ca
ca otherca
leaf good ca "DNS:localhost,DNS:good.test,IP:127.0.0.1,IP:::1"
leaf expired ca "DNS:localhost,IP:127.0.0.1" 20200101000000Z 20200201000000Z
leaf wronghost ca "DNS:wrong.test"
leaf untrusted otherca "DNS:localhost,IP:127.0.0.1"
key selfsigned.key
openssl req -x509 -new -key selfsigned.key -subj "/CN=localhost" -days 825 -out selfsigned.pem \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1
touch done
