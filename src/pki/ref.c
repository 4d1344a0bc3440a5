#include "pki.h"

X509 *
pki_cert_up_ref(X509 *x)
{
	if (x != NULL)
		X509_up_ref(x);
	return x;
}
