#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>


#define MAX_SYMBOL_LEN 64
static char symbol[MAX_SYMBOL_LEN] = "_do_fork";
module_param_string(symbol, symbol, sizeof(symbol), 0644);

static struct kprobe kp  ={
	.symbol_name =symbol,
};

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	printk("xhl -- func:%s, line:%d \n", __func__, __LINE__);
	return 0;
}

static void handler_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
	printk("xhl -- func:%s, line:%d \n", __func__, __LINE__);
	return 0;
}

static int handler_fault(struct kprobe *p, struct pt_regs *regs, int trapnr)
{
	printk("xhl -- func:%s, line:%d \n", __func__, __LINE__);
	return 0;
}


static int kprobe_init(void)
{
	int ret;
	kp.pre_handler = handler_pre;
	kp.post_handler = handler_post;
	kp.fault_handler = handler_fault;
	ret = register_kprobe(&kp);
	if(ret < 0) {
		printk("register_kprobe failed\n");
		return -1;
	}
	printk("kprobe at %p \n", kp.addr);
	return 0;
}

static void kprobe_exit(void)
{
	unregister_kprobe(&kp);
	printk("kprobe at %p unregistered\n", kp.addr);
}

module_init(kprobe_init);
module_exit(kprobe_exit);

MODULE_LICENSE("GPL");
