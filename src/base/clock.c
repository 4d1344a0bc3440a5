#include "base.h"

/* Kept in its own file so unit tests can link a fake clock (rule 27). */
time_t
dv_now(void)
{
	return time(NULL);
}
