#!/usr/bin/env bash
# Builds and runs the core-only consumer as on a machine without libsnappy-dev,
# libprotobuf-c-dev and libcurl4-openssl-dev: inside a private mount namespace their headers
# and pkg-config files are hidden (empty files and folders bound over them), pkg-config
# searches an empty folder, and afterwards no C target and no SwiftNIO module may have been
# compiled. Usage: build-without-c-libraries.sh SWIFT SCRATCH_PATH
set -euo pipefail
swift=$1
scratch=$2
fixture=$(cd "$(dirname "$0")" && pwd)

hide() {
    local empty_dir empty_file
    empty_dir=$(mktemp -d)
    empty_file=$(mktemp)
    for path in "$@"; do
        if [ -d "$path" ]; then mount --bind "$empty_dir" "$path"; elif [ -e "$path" ]; then mount --bind "$empty_file" "$path"; fi
    done
}

if [ "${1:-}" != "--inside" ]; then
    rm -rf "$scratch"
    if unshare --mount true 2>/dev/null; then
        exec unshare --mount "$0" --inside "$swift" "$scratch"
    elif [ "${CI:-}" = "true" ]; then
        echo "cannot create a mount namespace (unshare --mount) to hide the C libraries" >&2
        exit 1
    else
        echo "⚠️  no mount namespace here: building with the C libraries visible (object check only)"
        set -- --inside "$swift" "$scratch"
    fi
fi
shift
swift=$1
scratch=$2
if unshare --mount true 2>/dev/null; then
    hide /usr/include/snappy.h /usr/include/snappy-c.h /usr/include/snappy-sinksource.h \
        /usr/include/snappy-stubs-public.h /usr/include/protobuf-c /usr/include/google/protobuf-c \
        /usr/include/x86_64-linux-gnu/curl /usr/include/aarch64-linux-gnu/curl \
        /usr/lib/x86_64-linux-gnu/pkgconfig/snappy.pc /usr/lib/x86_64-linux-gnu/pkgconfig/libprotobuf-c.pc \
        /usr/lib/x86_64-linux-gnu/pkgconfig/libcurl.pc
    if [ -e /usr/include/snappy.h ] && [ -s /usr/include/snappy.h ]; then
        echo "snappy.h still visible" >&2
        exit 1
    fi
fi
empty=$(mktemp -d)
export PKG_CONFIG_LIBDIR=$empty PKG_CONFIG_PATH=$empty
if pkg-config --exists snappy 2>/dev/null || pkg-config --exists libcurl 2>/dev/null; then
    echo "pkg-config still finds the C libraries" >&2
    exit 1
fi
"$swift" build --package-path "$fixture" --scratch-path "$scratch"
compiled=$(cd "$scratch/debug" && find . -name '*.o' | sed -E 's#^\./##; s#\.build/.*##; s#^Modules/##; s#\.o$##' | sort -u | tr '\n' ' ')
echo "core-only build compiled: $compiled"
for module in CCurlShim CRemoteWriteProto ConveyorMetricsRemoteWrite ConveyorMetricsExporter NIOCore NIOPosix; do
    case " $compiled " in *" $module "*)
        echo "the core-only build compiled $module" >&2
        exit 1
        ;;
    esac
done
"$scratch/debug/CoreOnlyConsumer"
