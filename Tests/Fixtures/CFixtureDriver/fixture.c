#include "mix2api_driver.h"
